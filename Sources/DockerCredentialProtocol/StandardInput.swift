import SystemIO

public enum StandardInput {
    /// Reads stdin to its end, but stops one byte past `limit` so that a runaway writer cannot make the
    /// helper buffer without bound; the caller rejects anything longer than `limit`. A failed read ends
    /// the input: what arrived is then checked like any other input.
    public static func read(limit: Int = CredentialHelper.maximumInputBytes) -> [UInt8] {
        (try? FileDescriptorReader.readToEnd(0, limit: limit)) ?? []
    }
}
