// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "docker-credential-acr",
    products: [
        .executable(name: "docker-credential-acr", targets: ["docker-credential-acr"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // libsecret, the client library of the freedesktop Secret Service (gnome-keyring, KeePassXC, …).
        .systemLibrary(
            name: "CLibSecret",
            path: "Sources/CLibSecret",
            pkgConfig: "libsecret-1",
            providers: [.apt(["libsecret-1-dev"])]
        ),
        // Docker's credential-helper wire protocol: actions, input parsing, output bytes, sentinel errors.
        .target(name: "DockerCredentialProtocol"),
        // Where credentials live: the Secret Service keyring and the file store, and the choice between them.
        .target(name: "CredentialStores", dependencies: ["DockerCredentialProtocol", "CLibSecret"]),
        // The thin command-line front: wires the protocol to a store.
        .executableTarget(
            name: "docker-credential-acr",
            dependencies: [
                "DockerCredentialProtocol",
                "CredentialStores",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "DockerCredentialProtocolTests", dependencies: ["DockerCredentialProtocol"]),
        .testTarget(name: "CredentialStoresTests", dependencies: ["CredentialStores"]),
    ]
)
