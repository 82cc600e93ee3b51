import Testing
import HTTPTransport

@Suite struct FormEncodingTests {
    /// application/x-www-form-urlencoded as the WHATWG URL standard writes it: `~` too is escaped, which
    /// Python's quote_plus leaves (servers decode both).
    @Test func escapesAsTheURLStandardDoes() {
        #expect(FormEncoding.escape("az AZ09*-._") == "az+AZ09*-._")
        #expect(FormEncoding.escape("a=b&c/d+e~f%") == "a%3Db%26c%2Fd%2Be%7Ef%25")
        #expect(FormEncoding.escape("é\u{1F600}\n\u{0}") == "%C3%A9%F0%9F%98%80%0A%00")
        #expect(FormEncoding.escape("") == "")
    }

    @Test func encodesFieldsInOrder() {
        #expect(FormEncoding.encode([("grant_type", "access_token"), ("scope", "repository:* pull")])
            == "grant_type=access_token&scope=repository%3A*+pull")
    }
}
