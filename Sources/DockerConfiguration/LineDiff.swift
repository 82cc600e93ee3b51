/// A unified diff of two texts by lines, as `diff -u` prints it, for `configure --dry-run`.
enum LineDiff {
    private enum Line: Equatable {
        case same(Substring)
        case removed(Substring)
        case added(Substring)

        var isChange: Bool { if case .same = self { false } else { true } }
    }

    /// Above this many cells the middle of the texts is not aligned line by line but shown as removed,
    /// then added: still a correct diff, and a whole-file rewrite looks like that anyway.
    private static let alignmentLimit = 4_000_000
    private static let context = 3

    /// `before` → `after` with three lines of context around each change; empty when they are equal.
    static func unified(_ before: [UInt8], _ after: [UInt8], from: String, to: String) -> String {
        let lines = edits(split(before), split(after))
        var hunks: [Range<Int>] = []
        for index in lines.indices where lines[index].isChange {
            let hunk = max(0, index - context)..<min(lines.count, index + context + 1)
            if let last = hunks.last, hunk.lowerBound <= last.upperBound {
                hunks[hunks.count - 1] = last.lowerBound..<hunk.upperBound
            } else {
                hunks.append(hunk)
            }
        }
        guard !hunks.isEmpty else { return "" }

        var output = "--- \(from)\n+++ \(to)\n"
        var oldLine = 0, newLine = 0, position = 0
        for hunk in hunks {
            for line in lines[position..<hunk.lowerBound] { advance(line, &oldLine, &newLine) }
            let oldCount = lines[hunk].count { if case .added = $0 { false } else { true } }
            let newCount = lines[hunk].count { if case .removed = $0 { false } else { true } }
            output += "@@ -\(range(oldLine, oldCount)) +\(range(newLine, newCount)) @@\n"
            for line in lines[hunk] {
                switch line {
                case .same(let text): output += " \(text)\n"
                case .removed(let text): output += "-\(text)\n"
                case .added(let text): output += "+\(text)\n"
                }
                advance(line, &oldLine, &newLine)
            }
            position = hunk.upperBound
        }
        return output
    }

    private static func split(_ bytes: [UInt8]) -> [Substring] {
        let text = String(decoding: bytes, as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        return lines
    }

    /// `diff -u` numbers an empty range by the line before it.
    private static func range(_ linesBefore: Int, _ count: Int) -> String {
        "\(count == 0 ? linesBefore : linesBefore + 1),\(count)"
    }

    private static func advance(_ line: Line, _ oldLine: inout Int, _ newLine: inout Int) {
        if case .added = line {} else { oldLine += 1 }
        if case .removed = line {} else { newLine += 1 }
    }

    /// The lines of both texts aligned by a longest common subsequence, after the common start and end.
    private static func edits(_ old: [Substring], _ new: [Substring]) -> [Line] {
        let prefix = zip(old, new).prefix { $0 == $1 }.count
        let suffix = zip(old[prefix...].reversed(), new[prefix...].reversed()).prefix { $0 == $1 }.count
        let a = old[prefix..<(old.count - suffix)], b = new[prefix..<(new.count - suffix)]
        var lines = old[..<prefix].map(Line.same)
        if a.count * b.count > alignmentLimit {
            lines += a.map(Line.removed) + b.map(Line.added)
        } else {
            // common[i][j]: the length of the longest common subsequence of a[i...] and b[j...].
            let width = b.count + 1
            var common = [Int32](repeating: 0, count: (a.count + 1) * width)
            for i in (0..<a.count).reversed() {
                for j in (0..<b.count).reversed() {
                    common[i * width + j] = a[a.startIndex + i] == b[b.startIndex + j]
                        ? common[(i + 1) * width + j + 1] + 1
                        : max(common[(i + 1) * width + j], common[i * width + j + 1])
                }
            }
            var i = 0, j = 0
            while i < a.count || j < b.count {
                if i < a.count, j < b.count, a[a.startIndex + i] == b[b.startIndex + j] {
                    lines.append(.same(a[a.startIndex + i]))
                    i += 1
                    j += 1
                } else if j == b.count || (i < a.count && common[(i + 1) * width + j] >= common[i * width + j + 1]) {
                    lines.append(.removed(a[a.startIndex + i]))
                    i += 1
                } else {
                    lines.append(.added(b[b.startIndex + j]))
                    j += 1
                }
            }
        }
        return lines + old[(old.count - suffix)...].map(Line.same)
    }
}
