#if canImport(Glibc)
import Glibc
#endif

/// Times and durations as people read them in a report.
enum Formatting {
    /// "2026-11-29 11:30 UTC"
    static func time(_ seconds: Int64) -> String {
        var value = time_t(seconds)
        var parts = tm()
        gmtime_r(&value, &parts)
        func two(_ number: Int32) -> String { number < 10 ? "0\(number)" : "\(number)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday)) \(two(parts.tm_hour)):\(two(parts.tm_min)) UTC"
    }

    /// "2 h 55 min", "12 min", "40 s"
    static func duration(_ seconds: Int64) -> String {
        let seconds = abs(seconds)
        if seconds < 120 { return "\(seconds) s" }
        let minutes = seconds / 60
        if minutes < 120 { return "\(minutes) min" }
        if minutes < 48 * 60 { return "\(minutes / 60) h \(minutes % 60) min" }
        return "\(minutes / 1440) days"
    }

    /// "until 2026-11-29 11:30 UTC (2 h 55 min left)" or "expired 2026-11-29 08:30 UTC (3 min ago)"
    static func expiry(_ expiresOn: Int64, now: Int64) -> String {
        expiresOn > now
            ? "valid until \(time(expiresOn)) (\(duration(expiresOn - now)) left)"
            : "expired \(time(expiresOn)) (\(duration(now - expiresOn)) ago)"
    }
}
