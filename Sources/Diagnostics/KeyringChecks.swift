import ErrorExplanation
import CredentialStores

/// Which store holds the credentials, and whether it can be used without a prompt. Opens the store the
/// way `get` does, once, and hands it on to the registry checks.
struct KeyringChecks {
    let environment: [String: String]

    func run() -> (checks: [Check], store: (any CredentialAndTokenStore)?) {
        let title = "Credential store"
        func failed(_ error: any Error, unlocked: String) -> [Check] {
            let (cause, fix) = { let e = Explanation(error); return (e.cause, e.fix) }()
            return [Check(.credentialStore, .error, title: title, found: cause, fix: fix),
                    Check(.keyringLocked, .skipped, title: "Keyring unlocked", found: unlocked)]
        }
        let choice: StoreChoice
        let opened: (store: any CredentialAndTokenStore, keyringProblem: SecretServiceError?)
        do {
            choice = try StoreChoice(environment: environment)
        } catch {
            return (failed(error, unlocked: "no store"), nil)
        }
        do {
            opened = try choice.openExplained(environment: environment)
        } catch {
            return (failed(error, unlocked: "no Secret Service"), nil)
        }
        if let file = opened.store as? FileStore {
            var check = fileStore(file, because: opened.keyringProblem == nil
                ? "\(StoreChoice.variable)=file" : "no Secret Service answers on the session bus")
            if opened.keyringProblem != nil, check.status == .ok {
                check.status = .warning
                check.fix = "to keep credentials in the keyring instead, run a Secret Service (gnome-keyring, KeePassXC) in this session"
            }
            let unlocked = opened.keyringProblem == nil ? "the file store is in use" : "no Secret Service"
            return ([check, Check(.keyringLocked, .skipped, title: "Keyring unlocked", found: unlocked)], opened.store)
        }
        var checks = [Check(
            .credentialStore, .ok, title: title,
            found: "the Secret Service keyring" + (choice == .auto ? " (\(StoreChoice.variable) is auto and a keyring answers)" : ""))]
        do {
            try (opened.store as? SecretServiceStore)?.checkUnlocked()
            checks.append(Check(.keyringLocked, .ok, title: "Keyring unlocked", found: "the default collection is unlocked"))
        } catch {
            let (cause, fix) = { let e = Explanation(error); return (e.cause, e.fix) }()
            checks.append(Check(.keyringLocked, .error, title: "Keyring unlocked", found: cause, fix: fix))
        }
        return (checks, opened.store)
    }

    private func fileStore(_ store: FileStore, because reason: String) -> Check {
        do {
            _ = try store.allUsernames()
            return Check(.credentialStore, .ok, title: "Credential store", found: "the file \(store.file) (\(reason))")
        } catch {
            let (cause, fix) = { let e = Explanation(error); return (e.cause, e.fix) }()
            return Check(.credentialStore, .error, title: "Credential store", found: cause, fix: fix)
        }
    }
}
