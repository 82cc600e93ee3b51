import CredentialStores

/// Which store holds the credentials, and whether it can be used without a prompt.
struct KeyringChecks {
    let environment: [String: String]

    func run() -> [Check] {
        let title = "Credential store"
        let choice: StoreChoice
        do {
            choice = try StoreChoice(environment: environment)
        } catch {
            let (cause, fix) = Formatting.causeAndFix(error.description)
            return [Check(.credentialStore, .error, title: title, found: cause, fix: fix),
                    Check(.keyringLocked, .skipped, title: "Keyring unlocked", found: "no store")]
        }
        let file = FileStore(directory: FileStore.defaultDirectory(environment: environment))
        if choice == .file {
            return [fileStore(file, because: "\(StoreChoice.variable)=file"),
                    Check(.keyringLocked, .skipped, title: "Keyring unlocked", found: "the file store is in use")]
        }
        let keyring: SecretServiceStore
        do {
            keyring = try SecretServiceStore(lockDirectory: StoreChoice.lockDirectory(environment))
        } catch {
            let (cause, fix) = Formatting.causeAndFix(error.description)
            if choice == .secretService {
                return [Check(.credentialStore, .error, title: title, found: cause, fix: fix),
                        Check(.keyringLocked, .skipped, title: "Keyring unlocked", found: "no Secret Service")]
            }
            var fallback = fileStore(file, because: "no Secret Service answers on the session bus")
            if fallback.status == .ok {
                fallback.status = .warning
                fallback.fix = "to keep credentials in the keyring instead, run a Secret Service (gnome-keyring, KeePassXC) in this session"
            }
            return [fallback, Check(.keyringLocked, .skipped, title: "Keyring unlocked", found: "no Secret Service")]
        }
        var checks = [Check(
            .credentialStore, .ok, title: title,
            found: "the Secret Service keyring" + (choice == .auto ? " (\(StoreChoice.variable) is auto and a keyring answers)" : ""))]
        do {
            try keyring.checkUnlocked()
            checks.append(Check(.keyringLocked, .ok, title: "Keyring unlocked", found: "the default collection is unlocked"))
        } catch {
            let (cause, fix) = Formatting.causeAndFix(error.description)
            checks.append(Check(.keyringLocked, .error, title: "Keyring unlocked", found: cause, fix: fix))
        }
        return checks
    }

    private func fileStore(_ store: FileStore, because reason: String) -> Check {
        do {
            _ = try store.allUsernames()
            return Check(.credentialStore, .ok, title: "Credential store", found: "the file \(store.file) (\(reason))")
        } catch {
            let (cause, fix) = Formatting.causeAndFix("\(error)")
            return Check(.credentialStore, .error, title: "Credential store", found: cause, fix: fix)
        }
    }
}
