/// The `expires_on` of managed-identity answers, in every form MSAL accepts: seconds since 1970 (as a
/// number or a string), `MM/dd/yyyy HH:mm:ss` in UTC (older App Service versions, with or without
/// ` +00:00`), or RFC 3339.
enum ExpiryTime {
    static func seconds(_ text: String) -> Int64? {
        let text = text.trimmingPrefix(" ")
        if let seconds = Int64(text) { return seconds }
        if let seconds = Double(text), seconds.isFinite, seconds > 0 { return Int64(seconds) }
        let digits = text.split(whereSeparator: { !$0.isNumber }).map(String.init)
        func number(_ index: Int) -> Int64? { index < digits.count ? Int64(digits[index]) : nil }
        let fields: (year: Int64?, month: Int64?, day: Int64?)
        if text.contains("/") {
            fields = (number(2), number(0), number(1))
        } else if text.contains("-"), text.contains("T") || text.contains("t") || text.contains(" ") {
            fields = (number(0), number(1), number(2))
        } else {
            return nil
        }
        guard let year = fields.year, let month = fields.month, let day = fields.day,
              let hour = number(3), let minute = number(4), let second = number(5),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        let utc = daysSince1970(year: year, month: month, day: day) * 86400 + hour * 3600 + minute * 60 + second
        return utc - offset(of: text)
    }

    /// An RFC 3339 or `+00:00` zone's offset east of UTC, in seconds; 0 for `Z` or none.
    private static func offset(of text: Substring) -> Int64 {
        // The zone follows the time: the last `+` or `-` after the `T` (or space) before it.
        guard let timeStart = text.firstIndex(where: { $0 == "T" || $0 == "t" || $0 == " " }),
              let sign = text[timeStart...].lastIndex(where: { $0 == "+" || $0 == "-" })
        else { return 0 }
        let parts = text[text.index(after: sign)...].split(separator: ":").compactMap { Int64($0) }
        guard let hours = parts.first else { return 0 }
        let seconds = hours * 3600 + (parts.count > 1 ? parts[1] * 60 : 0)
        return text[sign] == "-" ? -seconds : seconds
    }

    /// Days from 1970-01-01 to a date of the proleptic Gregorian calendar (Howard Hinnant's algorithm).
    private static func daysSince1970(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146097 + dayOfEra - 719468
    }
}
