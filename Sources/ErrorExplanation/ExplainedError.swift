/// An error that knows its cause and what to do about it, as two fields: the one-line messages of `get`
/// join them, `diagnose` shows them apart. Every error type of the helper adopts it.
public protocol ExplainedError: Error, CustomStringConvertible {
    /// What went wrong, in the words of the cause.
    var cause: String { get }
    /// What to do about it; nil where the cause says all there is.
    var fix: String? { get }
}

extension ExplainedError {
    public var description: String { fix.map { "\(cause); \($0)" } ?? cause }
}

/// The cause and fix of any error: an `ExplainedError`'s own, else its description as the cause.
public struct Explanation: Sendable, Equatable {
    public var cause: String
    public var fix: String?

    public init(cause: String, fix: String? = nil) {
        self.cause = cause
        self.fix = fix
    }

    public init(_ error: any Error) {
        if let explained = error as? any ExplainedError {
            self.init(cause: explained.cause, fix: explained.fix)
        } else {
            self.init(cause: "\(error)")
        }
    }
}
