import FoundationEssentials

/// `diagnose`'s output: for people, grouped with marks and the fixes at the end; or JSON for scripts.
public enum Report {
    /// One line per check, grouped: the machine first, then each registry; then the numbered fixes.
    public static func text(_ diagnosis: Diagnosis, colour: Bool) -> String {
        func paint(_ text: String, _ code: String) -> String { colour ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
        func mark(_ status: Check.Status) -> String {
            switch status {
            case .ok: paint("✓", "32")
            case .warning: paint("!", "33")
            case .error: paint("✗", "31")
            case .skipped: paint("-", "2")
            }
        }
        var out = ""
        // Numbered once each: two checks that found one cause share its fix.
        var fixes: [(registry: String?, fix: String)] = []
        let sections = [(nil as String?, "This machine")] + diagnosis.registries.map { registry in
            (registry as String?, registry)
        }
        for (registry, heading) in sections {
            let indices = diagnosis.checks.indices.filter { diagnosis.checks[$0].registry == registry }
            guard !indices.isEmpty else { continue }
            out += "\n" + paint(heading, "1") + "\n"
            for group in Check.Group.allCases {
                let members = indices.filter { diagnosis.checks[$0].group == group }
                guard !members.isEmpty else { continue }
                out += "  \(group.rawValue)\n"
                for index in members {
                    let check = diagnosis.checks[index]
                    var line = "    \(mark(check.status)) \(check.title): \(check.found)"
                    if let fix = check.fix, check.status == .warning || check.status == .error {
                        if !fixes.contains(where: { $0.registry == check.registry && $0.fix == fix }) {
                            fixes.append((check.registry, fix))
                        }
                        let number = fixes.firstIndex { $0.registry == check.registry && $0.fix == fix }! + 1
                        line += " [\(number)]"
                    }
                    // A code names a problem to look up: beside a ✓, an `…_ERROR` would read as one.
                    let problem = check.status == .warning || check.status == .error
                    out += line + (problem ? "  " + paint(check.code.rawValue, "2") : "") + "\n"
                }
            }
        }
        if !fixes.isEmpty {
            out += "\n" + paint("To fix", "1") + "\n"
            for (index, entry) in fixes.enumerated() {
                out += "  [\(index + 1)] \(entry.registry.map { "\($0): " } ?? "")\(entry.fix)\n"
            }
        }
        let errors = diagnosis.checks.filter { $0.status == .error }.count
        let warnings = diagnosis.checks.filter { $0.status == .warning }.count
        let counts = "\(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s")"
        out += "\n" + (diagnosis.loginWouldSucceed
            ? paint("A login would succeed", "32") + " (\(counts)).\n"
            : paint("A login would fail", "31") + " (\(counts)).\n")
        return out
    }

    /// `{"ok": …, "registries": […], "checks": [{"code","status","group","registry","title","found","fix"}]}`
    public static func json(_ diagnosis: Diagnosis) -> String {
        struct Entry: Encodable {
            var code, status, group, title, found: String
            var registry, fix: String?

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(code, forKey: .code)
                try container.encode(status, forKey: .status)
                try container.encode(group, forKey: .group)
                try container.encode(registry, forKey: .registry)
                try container.encode(title, forKey: .title)
                try container.encode(found, forKey: .found)
                try container.encode(fix, forKey: .fix)
            }

            enum CodingKeys: String, CodingKey { case code, status, group, registry, title, found, fix }
        }
        struct Document: Encodable {
            var ok: Bool
            var registries: [String]
            var checks: [Entry]
        }
        let document = Document(
            ok: diagnosis.loginWouldSucceed, registries: diagnosis.registries,
            checks: diagnosis.checks.map {
                Entry(code: $0.code.rawValue, status: $0.status.rawValue, group: $0.group.rawValue, title: $0.title,
                      found: $0.found, registry: $0.registry, fix: $0.fix)
            })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(document)) ?? Data("{}".utf8), as: UTF8.self) + "\n"
    }
}
