// swift-tools-version:6.0
import PackageDescription

/// How both binaries link: with lld (Swift's toolchain has it), and with libstdc++ (which the Swift runtime
/// needs) linked in from `.build/static-libstdc++/libstdc++.a`, which `make build` links to the system's.
/// A shared libstdc++ cost every `get` 1 MiB of peak memory (its symbol tables and relocations) and some
/// of its start-up time; without that folder (a bare `swift build`) the shared one is used.
let linking = ["-use-ld=lld", "-L", Context.packageDirectory + "/.build/static-libstdc++"]

let package = Package(
    name: "docker-credential-acr",
    products: [
        .executable(name: "docker-credential-acr", targets: ["docker-credential-acr"]),
        .executable(name: "docker-credential-acr-engine", targets: ["docker-credential-acr-engine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.5.0"),
    ],
    targets: [
        // sd-bus, libsystemd's D-Bus client: the Secret Service keyring is reached through it.
        .systemLibrary(name: "CLibSystemd", path: "Sources/CLibSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        // prctl, which is variadic in C.
        .systemLibrary(name: "CProcessControl", path: "Sources/CProcessControl"),
        // Reading file descriptors to their end, with a bound (the one loop every input goes through),
        // running a program without a shell, and keeping the process out of core dumps.
        .target(name: "SystemIO", dependencies: ["CProcessControl", "ErrorExplanation"]),
        // The cause and the fix of an error as two fields, which every error type of the helper gives.
        .target(name: "ErrorExplanation"),
        // JSON from outside (Docker's input, Azure's answers, files) through JSONDecoder, behind a nesting guard.
        .target(name: "JSONInput"),
        // Docker's credential-helper wire protocol: actions, input parsing, output bytes, sentinel errors.
        .target(name: "DockerCredentialProtocol", dependencies: ["ErrorExplanation", "JSONInput", "SystemIO"]),
        // Where credentials live: the Secret Service keyring and the file store, and the choice between them.
        .target(name: "CredentialStores", dependencies: ["CLibSystemd", "DockerCredentialProtocol", "ErrorExplanation", "JSONInput", "SystemIO"]),
        // HTTP as plain values behind a protocol, and the retry policy within one time budget.
        .target(name: "HTTPTransport", dependencies: ["ErrorExplanation"]),
        // libcurl (OpenSSL flavour, Debian's libcurl4-openssl-dev), opened with dlopen when a request is
        // coming, and the OpenSSL functions of the TLS context's extra CAs and pinned certificates, from
        // the libssl it loads (libssl-dev for the headers): neither binary links them.
        .target(name: "CLibCurl"),
        // The protocol over libcurl.
        .target(name: "HTTPClientTransport", dependencies: ["CLibCurl", "HTTPTransport", "SystemIO"]),
        // Azure AD tokens from the identity the machine has: service principal, workload identity,
        // managed identity, Azure CLI.
        // libmd's SHA-256 (dpkg's digest library), for fingerprints of secrets kept with tokens.
        .systemLibrary(name: "CLibMD", path: "Sources/CLibMD", pkgConfig: "libmd", providers: [.apt(["libmd-dev"])]),
        .target(name: "AzureIdentity", dependencies: ["CLibMD", "ErrorExplanation", "HTTPTransport", "JSONInput", "SystemIO"]),
        // OpenSSL's libcrypto: PEM and PKCS#12 (.pfx/.p12, legacy Windows exports included) and signing; engine only.
        .systemLibrary(name: "CLibCrypto", path: "Sources/CLibCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // The signed assertion of a service principal with a certificate (OpenSSL: PEM, PKCS#12, RS256); engine only.
        .target(name: "CertificateAssertion", dependencies: ["AzureIdentity", "CLibCrypto", "ErrorExplanation", "SystemIO"]),
        // ACR login servers, the Azure AD → ACR refresh-token exchange, its cache and configuration.
        .target(
            name: "ACRTokenExchange",
            dependencies: [
                "AzureIdentity", "CredentialStores", "DockerCredentialProtocol", "ErrorExplanation", "HTTPTransport", "JSONInput", "SystemIO",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // `diagnose`: why a login would fail, checked step by step, for people and as JSON.
        .target(
            name: "Diagnostics",
            dependencies: [
                "ACRTokenExchange", "AzureIdentity", "CredentialStores", "DockerConfiguration", "DockerCredentialProtocol",
                "ErrorExplanation", "HTTPTransport", "JSONInput", "SystemIO",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // `configure`: edits Docker's config.json so that Docker uses this helper, keeping everything else in it.
        .target(name: "DockerConfiguration", dependencies: ["DockerCredentialProtocol", "ErrorExplanation", "SystemIO"]),
        // The kubelet's image credential provider exec protocol: request in, response out.
        .target(name: "KubeletCredentialProvider", dependencies: ["ACRTokenExchange", "AzureIdentity", "DockerCredentialProtocol", "ErrorExplanation", "JSONInput"]),
        // Builds the helper from the environment and runs protocol actions with Docker's conventions.
        .target(
            name: "HelperWiring",
            dependencies: [
                "ACRTokenExchange", "AzureIdentity", "CredentialStores", "DockerCredentialProtocol", "HTTPClientTransport", "HTTPTransport",
                .product(name: "Logging", package: "swift-log"),
            ],
            plugins: ["BuildInfo"]
        ),
        // The commit a binary was built from, for `version`.
        .plugin(name: "BuildInfo", capability: .buildTool()),
        // What Docker runs: the protocol's actions, new tokens included, except for certificate identities
        // (OpenSSL signing) and subcommands, which it hands to the engine. Small on purpose: it starts for
        // every registry operation, and loads libcurl only when a request is coming.
        .executableTarget(
            name: "docker-credential-acr",
            dependencies: ["DockerCredentialProtocol", "HelperWiring", "SystemIO"],
            exclude: ["hot-functions.order"],
            // Not position-independent: the loader then applies no relocations to the image and touches
            // fewer pages, 1.5 MiB less peak memory for a keyring get (16.1 -> 14.5 MiB). Network answers
            // (TLS-checked, bounded in size) are parsed by bounds-checked Swift and by libcurl, which is
            // a shared library and so placed at random like every library.
            // The functions everyday calls run are laid out together (Scripts/hot-functions.sh writes the
            // list): 1.2 MiB less peak memory, as the kernel maps 64 KiB around every page touched.
            linkerSettings: [.unsafeFlags(linking + [
                "-Xlinker", "-no-pie", "-Xlinker", "--no-export-dynamic",
                "-Xlinker", "--symbol-ordering-file=" + Context.packageDirectory + "/Sources/docker-credential-acr/hot-functions.order",
                "-Xlinker", "--no-warn-symbol-ordering",
            ])]
        ),
        // Everything: certificate identities, `diagnose`, `import`, `login`, the kubelet, help (swift-argument-parser).
        .executableTarget(
            name: "docker-credential-acr-engine",
            dependencies: [
                "ACRTokenExchange", "AzureIdentity", "CertificateAssertion", "CredentialStores", "Diagnostics", "DockerConfiguration",
                "DockerCredentialProtocol", "HelperWiring", "HTTPClientTransport", "HTTPTransport", "KubeletCredentialProvider",
                "SystemIO",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            linkerSettings: [.unsafeFlags(linking)]
        ),
        // Fuzz targets: built with libFuzzer by Scripts/fuzz.sh (`make stress`); in ordinary builds, programs
        // that replay saved inputs, which `make test` runs on every input that once failed.
        .systemLibrary(name: "CLibFuzzer", path: "Tests/Fuzz/CLibFuzzer"),
        .target(name: "FuzzSupport", dependencies: ["CLibFuzzer"], path: "Tests/Fuzz/FuzzSupport"),
        .executableTarget(name: "ProtocolInputFuzz", dependencies: ["DockerCredentialProtocol", "FuzzSupport"], path: "Tests/Fuzz/ProtocolInputFuzz"),
        .executableTarget(name: "TokenClaimsFuzz", dependencies: ["AzureIdentity", "FuzzSupport", "JSONInput"], path: "Tests/Fuzz/TokenClaimsFuzz"),
        .testTarget(name: "DockerCredentialProtocolTests", dependencies: ["DockerCredentialProtocol"]),
        .testTarget(name: "JSONInputTests", dependencies: ["JSONInput"]),
        .testTarget(name: "HTTPTransportTests", dependencies: ["HTTPTransport"]),
        .testTarget(name: "AzureIdentityTests", dependencies: ["AzureIdentity", "HTTPTransport"]),
        .testTarget(name: "CredentialStoresTests", dependencies: ["CredentialStores"]),
        .testTarget(name: "DiagnosticsTests", dependencies: ["ACRTokenExchange", "Diagnostics", "DockerCredentialProtocol", "ErrorExplanation", "HTTPTransport"]),
        .testTarget(name: "KubeletCredentialProviderTests", dependencies: ["KubeletCredentialProvider"]),
        .testTarget(name: "DockerConfigurationTests", dependencies: ["DockerConfiguration"]),
        .testTarget(
            name: "ACRTokenExchangeTests",
            dependencies: [
                "ACRTokenExchange", "AzureIdentity", "CredentialStores", "DockerCredentialProtocol", "HTTPTransport",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ]
)

// Async functions run on their caller's executor (SE-0461): the cache-hit path then never leaves the main
// thread, and starts no threads of Swift's global executor. Every target, tests included, so that all
// conformances to a protocol agree on how its async requirements are called.
for target in package.targets where target.type != .system && target.type != .plugin {
    target.swiftSettings = (target.swiftSettings ?? []) + [.enableUpcomingFeature("NonisolatedNonsendingByDefault")]
}
