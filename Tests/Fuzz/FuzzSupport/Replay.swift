import CLibFuzzer
import Foundation

/// What the fuzz targets share: one input at a time, from libFuzzer (built with `-sanitize=fuzzer`
/// and `-DFUZZING` by Scripts/fuzz.sh) or, in ordinary builds, from files, so that every input that
/// once crashed is replayed by `make test`.
public enum FuzzInput {
    public typealias Callback = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

    /// The program's main: libFuzzer with the command line's options when built for fuzzing, else a
    /// replay of the files and folders named on the command line.
    public static func main(_ callback: Callback) -> Never {
        #if FUZZING
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, callback))
        #else
        replay(Array(CommandLine.arguments.dropFirst())) { bytes in
            _ = bytes.withUnsafeBufferPointer { callback($0.baseAddress, $0.count) }
        }
        exit(0)
        #endif
    }

    /// Runs `body` on each file named on the command line, or in each folder named there; exits 1 when a
    /// path cannot be read. A property that `body` finds broken traps, as under libFuzzer.
    static func replay(_ arguments: [String], _ body: ([UInt8]) -> Void) {
        var count = 0
        for path in arguments {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: path)).map { $0.sorted().map { path + "/" + $0 } } ?? [path]
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else {
                    FileHandle.standardError.write(Data("cannot read \(file)\n".utf8))
                    exit(1)
                }
                body(Array(data))
                count += 1
            }
        }
        print("replayed \(count) inputs")
    }

    /// Waits for an async call: the protocol's `get` is async, libFuzzer's entry point is not.
    public static func wait<T>(_ operation: @escaping () async -> T) -> T {
        let done = DispatchSemaphore(value: 0)
        let box = Box<T>()
        // The caller blocks until the task is done: nothing is shared while it runs.
        nonisolated(unsafe) let operation = operation
        Task {
            box.value = await operation()
            done.signal()
        }
        done.wait()
        return box.value!
    }

    private final class Box<T>: @unchecked Sendable {
        var value: T?
    }
}

/// Stops the process with `message` when a property does not hold: libFuzzer saves the input as a crash.
public func require(_ condition: Bool, _ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line) {
    if !condition { fatalError(message(), file: file, line: line) }
}
