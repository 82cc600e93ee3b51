import Testing
@testable import DockerCredentialProtocol

/// Expected bytes are what Go's `json.NewEncoder(w).Encode` writes for the same values.
@Suite struct GoJSONTests {
    @Test func structFieldsInOrderWithATrailingNewline() {
        #expect(GoJSON.object([("ServerURL", "a"), ("Username", "b"), ("Secret", "c")])
            == #"{"ServerURL":"a","Username":"b","Secret":"c"}"# + "\n")
    }

    @Test func htmlCharactersAndLineSeparatorsAreEscapedLikeGo() {
        #expect(GoJSON.quoted("<token>&\u{2028}\u{2029}") == #""\u003ctoken\u003e\u0026\u2028\u2029""#)
    }

    @Test func controlCharactersQuotesAndBackslashes() {
        #expect(GoJSON.quoted("a\"b\\c\nd\re\tf\u{1}g\u{1F}") == #""a\"b\\c\nd\re\tf\u0001g\u001f""#)
    }

    @Test func nonASCIIIsWrittenAsIs() {
        #expect(GoJSON.quoted("pässwörd🔑") == "\"pässwörd🔑\"")
    }

    @Test func mapsAreSortedByBytes() {
        #expect(GoJSON.sortedObject(["b": "2", "B": "3", "a": "1"]) == #"{"B":"3","a":"1","b":"2"}"# + "\n")
        #expect(GoJSON.sortedObject([:]) == "{}\n")
    }
}
