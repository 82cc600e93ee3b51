import Testing
@testable import DockerConfiguration

@Suite struct LineDiffTests {
    private func diff(_ before: String, _ after: String) -> String {
        LineDiff.unified(Array(before.utf8), Array(after.utf8), from: "a", to: "b")
    }

    @Test func changesComeWithThreeLinesOfContext() {
        let before = (1...12).map(String.init).joined(separator: "\n") + "\n"
        let after = before.replacingOccurrences(of: "\n2\n", with: "\ntwo\n")
            .replacingOccurrences(of: "\n11\n", with: "\n11\n11½\n")
        #expect(diff(before, after) == """
            --- a
            +++ b
            @@ -1,5 +1,5 @@
             1
            -2
            +two
             3
             4
             5
            @@ -9,4 +9,5 @@
             9
             10
             11
            +11½
             12

            """)
    }

    @Test func nearbyChangesShareAHunkAndEqualTextsHaveNone() {
        #expect(diff("a\nb\nc\n", "a\nc\nd\n") == "--- a\n+++ b\n@@ -1,3 +1,3 @@\n a\n-b\n c\n+d\n")
        #expect(diff("", "x\n") == "--- a\n+++ b\n@@ -0,0 +1,1 @@\n+x\n")
        #expect(diff("same\n", "same\n") == "")
    }
}
