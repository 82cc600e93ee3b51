import ACRTokenExchange
import AzureIdentity
import HTTPClientTransport
import HTTPTransport

extension AzureConnection {
    /// The real thing: libcurl and OpenSSL, trusting what the environment and the configuration file add
    /// to the system's CAs (a broken configuration file is reported by the command that reads it). Made at
    /// the first request, so that a `get` answered from the cache reads no proxy or CA setting.
    /// `signer`: nil in the binary Docker runs, which leaves certificate identities to the engine.
    public static func curl(environment: [String: String], signer: (any ClientAssertionSigner)?) -> AzureConnection {
        let transport = DeferredTransport {
            let configuration = (try? ACRConfiguration.load(environment: environment)) ?? ACRConfiguration()
            let proxies = Result { () throws(ProxyError) in try ProxySettings(environment: environment, configured: configuration.proxy) }
            return CurlTransport(
                userAgent: "\(HelperVersion.name)/\(HelperVersion.version)",
                trust: TrustSettings(environment: environment, caBundle: configuration.caBundle), proxies: proxies)
        }
        return AzureConnection(transport: transport, signer: signer)
    }
}
