#!/usr/bin/env python3
"""Test-only emulator of the Microsoft Entra ID (Azure AD) and Azure Container Registry token endpoints.

docker-credential-acr will later run against the real services, so every answer here follows the wire
format Microsoft documents (and that the services are seen to send):

* Microsoft identity platform v2.0 token endpoint, client credentials flow
  (`POST /{tenant}/oauth2/v2.0/token`, form encoded) with a client secret, a certificate assertion
  (RFC 7523 JWT identified by its `x5t` / `x5t#S256` header) or a federated (workload identity)
  assertion; failures as AADSTS error bodies (`error`, `error_description`, `error_codes`, `trace_id`...).
* A person's sign-in on the same platform: the OAuth 2.0 device authorization grant
  (`POST /{tenant}/oauth2/v2.0/devicecode`, then polling the token endpoint with
  `grant_type=urn:ietf:params:oauth:grant-type:device_code`) by a public client such as the Azure CLI, and the
  `refresh_token` grant with AAD's opaque, rotating refresh tokens. Tests play the person in the browser through
  control endpoints (approve, decline, revoke sessions).
* Azure Instance Metadata Service managed identity endpoint (`GET /metadata/identity/oauth2/token`,
  `Metadata: true`; every field of the answer is a string).
* App Service / Container Apps managed identity endpoint, api-version 2019-08-01 (`GET /msi/token`,
  `X-IDENTITY-HEADER`).
* ACR's Azure AD integration (Azure/acr docs/AAD-OAuth.md): the `/v2/` Bearer challenge,
  `POST /oauth2/exchange` (AAD access token -> ACR refresh token) and `/oauth2/token` (ACR refresh token
  -> ACR access token; POST form, or GET with Basic auth as the Docker CLI and docker-registry do; GET
  without credentials for a pull-only token where the registry has anonymous pull enabled).

One process serves several registries, each under `/acr/<login server>`, over HTTP and optionally also over
HTTPS with a fresh self-signed certificate (for tests of TLS handshake failures). Control endpoints under
`/_emulator/` let tests count requests, inject faults and change token lifetimes. Standard library only;
RS256 signing and verification, and the TLS certificate, go through the `openssl` command line tool. See
README.md beside this file.
"""

import argparse
import base64
import hashlib
import gzip
import json
import os
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

JSON_TYPE = "application/json; charset=utf-8"
ENDPOINTS = ("aad_token", "aad_devicecode", "aad_discovery", "imds", "appservice", "automation", "servicefabric", "azureml", "cloudshell", "arc",
             "github_oidc", "pipelines_oidc", "acr_challenge", "acr_exchange", "acr_token")
# device_code: how long a device code waits for the person (AAD: 15 minutes); device_interval: the seconds between
# polls the devicecode answer asks for (AAD: 5); aad_refresh: a refresh token's inactivity lifetime (AAD: 90 days).
DEFAULT_LIFETIMES = {"aad": 3599, "managed_identity": 86399, "acr_refresh": 10800, "acr_access": 1200,
                     "device_code": 900, "device_interval": 5, "aad_refresh": 7776000, "ci_oidc": 300}
# Audiences ACR accepts in an AAD access token presented to /oauth2/exchange.
ACR_AAD_AUDIENCES = {"https://containerregistry.azure.net", "https://management.azure.com/",
                     "https://management.core.windows.net/"}
ROLE_ACTIONS = {"AcrPull": ("pull",), "AcrPush": ("pull", "push"),
                "Owner": ("pull", "push", "delete"), "Contributor": ("pull", "push", "delete")}
# ACR's answer to a request that needs credentials and has none (the `/v2/` challenge adds `"detail":null`).
AUTH_REQUIRED = "authentication required, visit https://aka.ms/acr/authorization for more information."
# The user name that tells ACR the password is an ACR refresh token.
NULL_GUID = "00000000-0000-0000-0000-000000000000"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
# The Azure CLI's well-known public client id, and the name AAD gives it in its messages.
AZURE_CLI = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
APP_NAMES = {AZURE_CLI: "Microsoft Azure CLI"}
# Where the person types the user code, as the devicecode answer names it.
VERIFICATION_URI = "https://microsoft.com/devicelogin"
# Tenant aliases a person can sign in through; the tokens then carry the person's home tenant.
TENANT_ALIASES = ("organizations", "common")
# OpenID Connect scopes: they ask for an id_token (openid) or a refresh token (offline_access), not for a resource.
OIDC_SCOPES = ("openid", "profile", "email", "offline_access")
GRAPH = "https://graph.microsoft.com"
# What a `.default` scope stands for in the scopes AAD answers (the resource's delegated permission).
DEFAULT_PERMISSIONS = {GRAPH: "User.Read"}
ID_TOKEN_LIFETIME = 3600  # AAD's ID tokens last one hour
USER_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CLOCK_SKEW = 300  # what AAD tolerates on a client assertion's nbf
FAULT_KINDS = ("malformed", "truncated", "slow", "firewall", "no_refresh_token", "expired_token", "close",
               # For the transport's own defences: a 307 elsewhere (`location`), a head then a body that stalls
               # or drips a byte every `delay_ms`, a 2 MiB body, a gzip body of 64 MiB of zeros, and a token
               # that is not a JWT.
               "redirect", "stall_body", "drip_body", "oversized", "gzip_bomb", "not_jwt",
               # An error whose message echoes the whole request (headers and body) between terminal escapes.
               "echo",
               # Azure Arc: a challenge naming `location` as its key file instead of one in the key folder.
               "realm")
FIREWALL_BODY = {"errors": [{"code": "DENIED", "message": "client with IP '127.0.0.1' is not allowed access. "
                             "Refer https://aka.ms/acr/firewall to grant access."}]}
# What a client sees of a body that broke off mid-way ("malformed" fault): a 200 that is not JSON.
MALFORMED_BODIES = {"aad_token": b'{"token_type":"Bearer","expires_in":35', "imds": b'{"access_token":"eyJ0eX',
                    "aad_devicecode": b'{"user_code":"FQK7T3X9M","device_code":"DAQABIQ',
                    "appservice": b'{"access_token":"eyJ0eX', "automation": b'{"access_token":"eyJ0eX',
                    "servicefabric": b'{"token_type":"Bearer","access_token":"eyJ0eX',
                    "azureml": b'{"access_token":"eyJ0eX', "cloudshell": b'{"access_token":"eyJ0eX',
                    "arc": b'{"access_token":"eyJ0eX', "github_oidc": b'{"count":1,"val',
                    "pipelines_oidc": b'{"oidcTok', "acr_challenge": b'{"errors":[{"code":"UNAUTH',
                    "acr_exchange": b'{"refresh_tok', "acr_token": b'{"access_tok'}


# ---------------------------------------------------------------------------------------------------
# JWT and RSA through openssl
# ---------------------------------------------------------------------------------------------------

class JwtError(Exception):
    """A JWT that cannot be decoded or whose signature does not verify."""


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def openssl(*args, stdin=None):
    return subprocess.run(["openssl", *args], input=stdin, capture_output=True, check=True).stdout


def split_jwt(token):
    """(header, claims, signing input, signature) of a compact JWS, unverified."""
    parts = token.split(".")
    if len(parts) != 3:
        raise JwtError("not a compact JWS")
    try:
        header, claims = (json.loads(b64url_decode(part)) for part in parts[:2])
        signature = b64url_decode(parts[2])
    except ValueError as error:
        raise JwtError(f"undecodable JWT: {error}") from error
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise JwtError("JWT header or claims are not objects")
    return header, claims, f"{parts[0]}.{parts[1]}".encode(), signature


class Certificate:
    """An X.509 certificate (PEM file) whose public key verifies RS256 signatures."""

    def __init__(self, pem_path, work_dir):
        self.der = openssl("x509", "-in", pem_path, "-outform", "DER")
        self.x5t = b64url(hashlib.sha1(self.der).digest())
        self.x5t_s256 = b64url(hashlib.sha256(self.der).digest())
        self.work_dir = work_dir
        # `openssl dgst -verify` wants a public key, not a certificate: extract it once.
        self.public_key = os.path.join(work_dir, f"pubkey-{hashlib.sha256(self.der).hexdigest()[:16]}.pem")
        with open(self.public_key, "wb") as out:
            out.write(openssl("x509", "-in", pem_path, "-pubkey", "-noout"))

    def verifies(self, signing_input, signature):
        # openssl reads the signature only from a file; the data comes on stdin.
        fd, signature_path = tempfile.mkstemp(dir=self.work_dir, suffix=".sig")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(signature)
            return subprocess.run(["openssl", "dgst", "-sha256", "-verify", self.public_key,
                                   "-signature", signature_path], input=signing_input,
                                  capture_output=True).returncode == 0
        finally:
            os.unlink(signature_path)


class Signer:
    """The emulator's own key and self-signed certificate, new at every start, signing every JWT it issues.

    The header carries the certificate as x5c because docker-registry 2.8 verifies a token through its x5c
    chain against `rootcertbundle` (the certificate written here)."""

    def __init__(self, state_dir):
        self.key_path = os.path.join(state_dir, "signing-key.pem")
        self.cert_path = os.path.join(state_dir, "signing-cert.pem")
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=azure-emulator", "-days", "2",
                "-keyout", self.key_path, "-out", self.cert_path)
        self.cert = Certificate(self.cert_path, state_dir)
        header = {"typ": "JWT", "alg": "RS256", "kid": self.cert.x5t_s256,
                  "x5c": [base64.b64encode(self.cert.der).decode()]}
        self.header_b64 = b64url(json.dumps(header, separators=(",", ":")).encode())

    def sign(self, claims):
        signing_input = f"{self.header_b64}.{b64url(json.dumps(claims, separators=(',', ':')).encode())}"
        signature = openssl("dgst", "-sha256", "-sign", self.key_path, stdin=signing_input.encode())
        return f"{signing_input}.{b64url(signature)}"

    def verify(self, token):
        """The claims of a token this emulator signed; JwtError for anything else."""
        header, claims, signing_input, signature = split_jwt(token)
        if header.get("alg") != "RS256" or not self.cert.verifies(signing_input, signature):
            raise JwtError("signature does not verify")
        return claims


def tls_certificate(state_dir, host="127.0.0.1"):
    """(certificate, key) paths of a fresh self-signed TLS server certificate for `host`, 127.0.0.1 and localhost:
    only a client given it as its CA (curl --cacert, SSL_CERT_FILE) completes the handshake, every other one fails it."""
    cert_path = os.path.join(state_dir, "tls-cert.pem")
    key_path = os.path.join(state_dir, "tls-key.pem")
    # serverAuth too, because Apple's TLS policy refuses a server certificate without it, even a trusted one.
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-days", "2",
            "-addext", f"subjectAltName=IP:127.0.0.1,DNS:localhost{'' if host == '127.0.0.1' else ',IP:' + host}",
            "-addext", "extendedKeyUsage=serverAuth",
            "-keyout", key_path, "-out", cert_path)
    return cert_path, key_path


def validity(lifetime, expired=False):
    """(iat, exp) of a token valid for `lifetime` seconds from now.

    An already expired token (fault `expired_token`, or a negative lifetime asked by a test) keeps iat < exp,
    as a real token that has run out would."""
    now = int(time.time())
    if expired:
        return now - 60 - lifetime, now - 60
    if lifetime > 0:
        return now, now + lifetime
    return now + lifetime - 3600, now + lifetime


# ---------------------------------------------------------------------------------------------------
# Configuration and mutable state
# ---------------------------------------------------------------------------------------------------

class Identity:
    """An app registration (service principal) or a managed identity."""

    def __init__(self, record, config_dir, work_dir):
        self.client_id = record["client_id"]
        self.object_id = record["object_id"]
        self.tenant = record["tenant"]
        self.system_assigned = bool(record.get("system_assigned"))
        self.resource_id = record.get("resource_id")
        self.secrets = record.get("secrets", [])
        self.certificates = [Certificate(os.path.join(config_dir, path), work_dir)
                             for path in record.get("certificates", [])]
        self.federated = record.get("federated", [])


class User:
    """A person who signs in (a member of one tenant, their home tenant)."""

    def __init__(self, record):
        self.upn = record["upn"]
        self.name = record.get("name", record["upn"])
        self.object_id = record["object_id"]
        self.tenant = record["tenant"]


class Directory:
    """What the config file declares: tenants, apps, managed identities, users, public clients and registries with
    their roles (keyed by an app's or managed identity's client id, or by a user's object id)."""

    def __init__(self, config_path, work_dir):
        with open(config_path, encoding="utf-8") as source:
            config = json.load(source)
        config_dir = os.path.dirname(os.path.abspath(config_path))
        self.tenants = set(config.get("tenants", []))
        self.apps = [Identity(record, config_dir, work_dir) for record in config.get("apps", [])]
        self.managed_identities = [Identity(record, config_dir, work_dir)
                                   for record in config.get("managed_identities", [])]
        self.users = [User(record) for record in config.get("users", [])]
        self.public_clients = list(config.get("public_clients", [AZURE_CLI]))
        self.registries = {server: (spec or {}).get("roles", {})
                           for server, spec in config.get("registries", {}).items()}
        self.anonymous_pull = {server for server, spec in config.get("registries", {}).items()
                               if (spec or {}).get("anonymous_pull")}
        self.identity_header = config.get("identity_header", "emulator-identity-header")
        # Azure Machine Learning's MSI_SECRET; the GitHub job's request token and the OIDC subject it gets; the
        # Azure Pipelines job's System.AccessToken and its service connections (id -> OIDC subject).
        self.msi_secret = config.get("msi_secret", "emulator-msi-secret")
        self.github = config.get("github", {"request_token": "emulator-github-request-token",
                                            "subject": "repo:contoso/app:ref:refs/heads/main"})
        self.pipelines = config.get("pipelines", {"access_token": "emulator-system-access-token",
                                                  "organization_id": "e0e0e0e0-0000-0000-0000-00000000000e",
                                                  "service_connections": {}})
        # Given, this emulator plays the Azure Arc agent at IMDS's path, writing its key files in this folder.
        self.arc_key_dir = config.get("arc_key_dir")
        self.arc = self.arc_key_dir is not None
        self.acr_issuer = config.get("acr_issuer", "Azure Container Registry")

    def app(self, tenant, client_id):
        return next((app for app in self.apps if app.tenant == tenant and app.client_id == client_id), None)

    def any_identity(self, client_id):
        return next((i for i in self.apps + self.managed_identities if i.client_id == client_id), None)

    def user(self, name):
        """The user whose UPN (case-insensitive) or object id is `name`."""
        name = (name or "").lower()
        return next((u for u in self.users if name in (u.upn.lower(), u.object_id.lower())), None)

    def actions(self, server, principal):
        """Repository actions the principal's roles grant on the registry, in a stable order. `principal` is an
        app's or managed identity's client id, or a user's object id."""
        granted = {action for role in self.registries[server].get(principal, [])
                   for action in ROLE_ACTIONS.get(role, ())}
        return [action for action in ("pull", "push", "delete") if action in granted]


class Emulator:
    """Shared state of one run: request counts, pending faults, token lifetimes and the request log."""

    def __init__(self, directory, signer, state_dir, delay_ms):
        self.directory = directory
        self.signer = signer
        self.delay = delay_ms / 1000
        self.lock = threading.Lock()
        self.counts = dict.fromkeys(ENDPOINTS, 0)
        self.faults = {endpoint: [] for endpoint in ENDPOINTS}
        self.lifetimes = dict(DEFAULT_LIFETIMES)
        # A person's sign-in: device codes by their device_code, and AAD refresh tokens (opaque) by their value.
        self.device_codes = {}
        self.refresh_tokens = {}
        self.log_file = open(os.path.join(state_dir, "requests.log"), "a", encoding="utf-8")
        # The managed-identity hosts' expires_on form (set_expires_on), and the key files Arc issued.
        self.expires_on_format = "epoch_string"
        self.arc_keys = {}

    def count(self, endpoint):
        with self.lock:
            self.counts[endpoint] += 1

    def take_fault(self, endpoint):
        """The fault that this request to `endpoint` gets, if one is pending; faults queue in order."""
        with self.lock:
            queue = self.faults[endpoint]
            if not queue:
                return None
            fault = queue[0]
            if fault["count"] > 0:
                fault["count"] -= 1
                if fault["count"] == 0:
                    queue.pop(0)
            return fault

    def lifetime(self, name):
        with self.lock:
            return self.lifetimes[name]

    def reset(self):
        with self.lock:
            self.counts = dict.fromkeys(ENDPOINTS, 0)
            self.faults = {endpoint: [] for endpoint in ENDPOINTS}
            self.lifetimes = dict(DEFAULT_LIFETIMES)
            self.device_codes = {}
            self.refresh_tokens = {}
            self.expires_on_format = "epoch_string"

    def log(self, entry):
        line = json.dumps(entry, separators=(",", ":")) + "\n"
        with self.lock:
            self.log_file.write(line)
            self.log_file.flush()


class Call:
    """One parsed request, as the endpoint functions see it."""

    def __init__(self, handler, path, query, body, form, fault):
        self.headers = handler.headers
        self.method = handler.command
        self.port = handler.server.server_port
        self.scheme = handler.server.scheme
        self.path = path
        self.body = body
        self.query = query
        self.form = form
        self.fault = fault
        # What the endpoint wants in this request's log line (never a secret).
        self.notes = {}

    def arg(self, name):
        """First value of a query parameter."""
        values = self.query.get(name)
        return values[0] if values else None

    def field(self, name):
        """First value of a form field."""
        values = self.form.get(name)
        return values[0] if values else None

    @property
    def expired_tokens(self):
        return bool(self.fault) and self.fault.get("kind") == "expired_token"

    @property
    def base_url(self):
        """This emulator's URL as the client addressed it, https:// on the TLS listener."""
        return f"{self.scheme}://" + (self.headers.get("Host") or f"127.0.0.1:{self.port}")


class Reply:
    def __init__(self, status, body, content_type=JSON_TYPE, headers=None):
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers or {}


def json_reply(status, obj, headers=None):
    return Reply(status, json.dumps(obj, separators=(",", ":")).encode(), headers=headers)


# ---------------------------------------------------------------------------------------------------
# 1. Microsoft identity platform v2.0 token endpoint (client credentials)
# ---------------------------------------------------------------------------------------------------

class AadError(Exception):
    def __init__(self, status, error, code, description):
        super().__init__(description)
        self.status, self.error, self.code, self.description = status, error, code, description


def aad_error_reply(call, failure):
    """AAD's error body. The description ends with the trace, correlation and time, as the service writes them;
    the correlation id echoes the client's `client-request-id` header as AAD does."""
    trace_id = str(uuid.uuid4())
    correlation_id = call.headers.get("client-request-id") or str(uuid.uuid4())
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
    return json_reply(failure.status, {
        "error": failure.error,
        "error_description": f"AADSTS{failure.code}: {failure.description} Trace ID: {trace_id} "
                             f"Correlation ID: {correlation_id} Timestamp: {stamp}",
        "error_codes": [failure.code],
        "timestamp": stamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": f"https://login.microsoftonline.com/error?code={failure.code}",
    })


def missing_parameter(name):
    return AadError(400, "invalid_request", 900144,
                    f"The request body must contain the following parameter: '{name}'.")


def invalid_jwt(reason):
    # AADSTS50027 (InvalidJwtToken) is AAD's code for an assertion with a bad format, audience, issuer or subject.
    return AadError(400, "invalid_request", 50027, f"JWT token is invalid or malformed. [Reason - {reason}]")


def outside_time_range(claims):
    def iso(claim):
        value = claims.get(claim)
        return datetime.fromtimestamp(value, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") \
            if isinstance(value, (int, float)) else "unspecified"
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return AadError(401, "invalid_client", 700024,
                    f"Client assertion is not within its valid time range. Current time: {now}, assertion valid "
                    f"from {iso('nbf')}, expiry time of assertion {iso('exp')}. Review the documentation at "
                    f"https://learn.microsoft.com/entra/identity-platform/certificate-credentials .")


def check_time_range(claims):
    now = time.time()
    exp, nbf = claims.get("exp"), claims.get("nbf")
    if not isinstance(exp, (int, float)) or exp <= now:
        raise outside_time_range(claims)
    if nbf is not None and (not isinstance(nbf, (int, float)) or nbf > now + CLOCK_SKEW):
        raise outside_time_range(claims)


def audience_matches(audience, call):
    """Whether a certificate assertion's `aud` names the token endpoint it was sent to, compared without scheme
    and with or without a trailing slash."""
    def bare(url):
        parts = urlsplit(url if "://" in url else f"//{url}")
        return parts.netloc.lower() + parts.path.rstrip("/")
    return isinstance(audience, str) and bare(audience) == bare(call.base_url + call.path)


def check_secret(app, secret):
    matches = [record for record in app.secrets if record.get("value") == secret]
    if not matches:
        raise AadError(401, "invalid_client", 7000215,
                       "Invalid client secret provided. Ensure the secret being sent in the request is the client "
                       "secret value, not the client secret ID, for a secret added to app "
                       f"'{app.client_id}'.")
    if all(record.get("expired") for record in matches):
        raise AadError(401, "invalid_client", 7000222,
                       f"The provided client secret keys for app '{app.client_id}' are expired. Visit the Azure "
                       "portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using "
                       "certificate credentials for added security: https://aka.ms/certCreds.")


def signature_failure(detail=""):
    return AadError(401, "invalid_client", 700027, f"Client assertion failed signature validation.{detail}")


def check_certificate_assertion(app, call, header, claims, signing_input, signature):
    thumbprint = header.get("x5t#S256") or header.get("x5t")
    certificate = next((cert for cert in app.certificates
                        if thumbprint in (cert.x5t, cert.x5t_s256)), None)
    if certificate is None:
        raise signature_failure(f" [Reason - The key was not found., Thumbprint of key used by client: "
                                f"'{thumbprint}']")
    if "x5c" in header:
        # Subject name and issuer authentication: the chain, its first certificate the one that signed.
        chain = header["x5c"]
        try:
            leaf = base64.b64decode(chain[0], validate=True) if isinstance(chain, list) and chain else b""
        except ValueError:
            leaf = b""
        if leaf != certificate.der:
            raise invalid_jwt("The x5c chain's first certificate is not the one the thumbprint names")
        call.notes["x5c"] = len(chain)
    if header.get("alg") != "RS256" or not certificate.verifies(signing_input, signature):
        raise signature_failure(" [Reason - The provided signature value did not match the expected signature "
                                f"value., Thumbprint of key used by client: '{thumbprint}']")
    if not audience_matches(claims.get("aud"), call):
        raise invalid_jwt(f"The audience '{claims.get('aud')}' is not the token endpoint")
    if claims.get("iss") != app.client_id or claims.get("sub") != app.client_id:
        raise invalid_jwt("The issuer and subject must be the client_id")
    if not claims.get("jti"):
        raise invalid_jwt("The assertion has no jti claim")
    check_time_range(claims)


def check_federated_assertion(em, app, assertion, claims):
    try:
        em.signer.verify(assertion)
    except JwtError:
        raise signature_failure() from None
    check_time_range(claims)
    audiences = claims.get("aud") if isinstance(claims.get("aud"), list) else [claims.get("aud")]
    if not any(record.get("issuer") == claims.get("iss") and record.get("subject") == claims.get("sub")
               and record.get("audience") in audiences for record in app.federated):
        # AAD answers this one with invalid_request / 400 (seen in the field), unlike the other assertion errors.
        raise AadError(400, "invalid_request", 70021,
                       "No matching federated identity record found for presented assertion. "
                       f"Assertion Issuer: '{claims.get('iss')}'. Assertion Subject: '{claims.get('sub')}'. "
                       f"Assertion Audience: '{','.join(map(str, audiences))}'. "
                       "https://learn.microsoft.com/entra/workload-id/workload-identity-federation")


def authenticate_client(em, app, call):
    secret, assertion = call.field("client_secret"), call.field("client_assertion")
    if secret is not None:
        return check_secret(app, secret)
    if assertion is None:
        raise AadError(401, "invalid_client", 7000216,
                       "'client_assertion', 'client_secret' or 'request' is required for the "
                       "'client_credentials' grant type.")
    if call.field("client_assertion_type") != JWT_BEARER:
        raise missing_parameter("client_assertion_type")
    try:
        header, claims, signing_input, signature = split_jwt(assertion)
    except JwtError as error:
        raise invalid_jwt(str(error)) from None
    # A certificate assertion names its certificate by thumbprint; a federated one (a token from another
    # issuer) does not.
    if "x5t" in header or "x5t#S256" in header:
        check_certificate_assertion(app, call, header, claims, signing_input, signature)
    else:
        check_federated_assertion(em, app, assertion, claims)


def aad_claims(identity, tenant, resource, iat, exp):
    return {"aud": resource, "iss": f"https://sts.windows.net/{tenant}/", "iat": iat, "nbf": iat, "exp": exp,
            "appid": identity.client_id, "idtyp": "app", "oid": identity.object_id, "sub": identity.object_id,
            "tid": tenant, "ver": "1.0"}


def tenant_not_found(tenant):
    return AadError(400, "invalid_request", 90002,
                    f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing "
                    "into the correct cloud. Check with your subscription administrator, this may happen if there are "
                    "no active subscriptions for the tenant.")


def app_not_found(client_id, tenant):
    return AadError(400, "unauthorized_client", 700016,
                    f"Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can "
                    "happen if the application has not been installed by the administrator of the tenant or consented "
                    "to by any user in the tenant. You may have sent your authentication request to the wrong tenant.")


def aad_token(em, call, tenant):
    """The token endpoint: client credentials (an app), or a person's device code or refresh token."""
    try:
        if tenant not in em.directory.tenants and tenant not in TENANT_ALIASES:
            raise tenant_not_found(tenant)
        grant_type = call.field("grant_type")
        if grant_type is None:
            raise missing_parameter("grant_type")
        if grant_type == "client_credentials":
            return client_credentials(em, call, tenant)
        if grant_type == DEVICE_CODE_GRANT:
            return device_code_grant(em, call, tenant)
        if grant_type == "refresh_token":
            return refresh_token_grant(em, call, tenant)
        raise AadError(400, "unsupported_grant_type", 70003,
                       f"The app requested an unsupported grant type '{grant_type}'.")
    except AadError as failure:
        return aad_error_reply(call, failure)


def client_credentials(em, call, tenant):
    if tenant == "common":
        # Documented (AADSTS9001023); at /organizations no app is found, as the alias is no directory of its own.
        raise AadError(400, "invalid_request", 9001023,
                       "The grant type is not supported over the /common or /consumers endpoints. Please use the "
                       "/organizations or tenant-specific endpoint.")
    for name in ("client_id", "scope"):
        if call.field(name) is None:
            raise missing_parameter(name)
    scope = call.field("scope")
    if not scope.endswith("/.default") or " " in scope.strip():
        raise AadError(400, "invalid_scope", 1002012,
                       f"The provided value for scope {scope} is not valid. Client credential flows must have "
                       "a scope value with /.default suffixed to the resource identifier (application ID URI).")
    client_id = call.field("client_id")
    app = em.directory.app(tenant, client_id)
    if app is None:
        raise app_not_found(client_id, tenant)
    authenticate_client(em, app, call)
    lifetime = em.lifetime("aad")
    iat, exp = validity(lifetime, call.expired_tokens)
    token = em.signer.sign(aad_claims(app, tenant, scope[:-len("/.default")], iat, exp))
    return json_reply(200, {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime,
                            "access_token": token})


# ---------------------------------------------------------------------------------------------------
# 1b. A person's sign-in: device authorization grant and refresh tokens (public clients)
# ---------------------------------------------------------------------------------------------------
# Sources: learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code (devicecode request and answer, the
# polling errors, the token answer), v2-oauth2-auth-code-flow#refresh-the-access-token (refresh grant),
# reference-error-codes (AADSTS codes), access-token-claims-reference and id-token-claims-reference (claims).
# Where those are silent the texts are the ones the real service is seen to send (quoted in GitHub issues).

class DeviceCode:
    """A device authorization request, waiting for the person, approved, declined or redeemed (once)."""

    def __init__(self, device_code, user_code, client_id, tenant, scope, expires):
        self.device_code, self.user_code = device_code, user_code
        self.client_id, self.tenant, self.scope = client_id, tenant, scope
        self.expires = expires
        self.state = "pending"  # pending, approved, declined, redeemed
        self.user = None        # the approving User
        self.failure = None     # AadError the poll gets although the person approved (AADSTS50020)

    def expired(self):
        return time.time() >= self.expires


class RefreshToken:
    """What AAD keeps behind an opaque refresh token: who, for which client, home tenant, consented scope, expiry."""

    def __init__(self, user, client_id, scope, lifetime):
        self.user, self.client_id, self.scope = user, client_id, scope
        self.tenant = user.tenant  # the home tenant: tokens carry it whatever alias the person signed in through
        self.issued = time.time()
        self.expires = self.issued + lifetime
        self.revoked_at = None


def opaque(prefix, size):
    """An opaque token value. Never starts with `eyJ`: these are not JWTs, and must be told apart from them."""
    return prefix + b64url(os.urandom(size))


def new_user_code():
    """Nine letters and digits, as AAD's user codes are (`BPPVYQZMA`); none that are easy to mistake for another."""
    return "".join(USER_CODE_ALPHABET[byte % len(USER_CODE_ALPHABET)] for byte in os.urandom(9))


def app_name(client_id):
    return APP_NAMES.get(client_id, client_id)


def user_grant_client(em, call, tenant, devicecode=False):
    """The public client a person signs in through (devicecode, device_code and refresh_token grants), or the error
    AAD gives: an unknown client (700016), a confidential app that sends no credential (7000218), or a public
    client that sends one (700025)."""
    client_id = call.field("client_id")
    if client_id is None:
        raise missing_parameter("client_id")
    credential = call.field("client_secret") is not None or call.field("client_assertion") is not None
    if client_id in em.directory.public_clients:
        if credential:
            raise AadError(401, "invalid_client", 700025,
                           "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.")
        return client_id
    app = next((app for app in em.directory.apps if app.client_id == client_id), None)
    if app is None:
        raise app_not_found(client_id, tenant)
    if not credential or devicecode:
        # The emulator refuses a confidential app's device code at once; the real service is seen to issue the code
        # and refuse the polls with this text instead.
        raise AadError(401, "invalid_client", 7000218,
                       "The request body must contain the following parameter: 'client_assertion' or "
                       "'client_secret'.")
    authenticate_client(em, app, call)
    return client_id


class Scope:
    """A requested scope string split as AAD reads it: one resource with its permissions, and the OIDC scopes.

    AAD answers the scopes the access token is valid for: `R/.default` becomes the resource's delegated permission
    plus `.default` (the Azure CLI sees `https://management.core.windows.net//user_impersonation
    https://management.core.windows.net//.default`). The OIDC scopes are Microsoft Graph's permissions, so they are
    listed only for a Graph token (the docs' example answers `User.Read profile openid email`); a scope string with
    only OIDC scopes gets a Graph token."""

    def __init__(self, text):
        self.text = text
        self.oidc = set()
        resources = {}
        for item in text.split():
            if item.lower() in OIDC_SCOPES:
                self.oidc.add(item.lower())
                continue
            if "://" in item:
                resource, _, permission = item.rpartition("/")
                if not permission or not urlsplit(resource).netloc:
                    raise AadError(400, "invalid_scope", 70011,
                                   "The provided value for the input parameter 'scope' is not valid. The scope "
                                   f"{item} is not valid.")
            else:
                resource, permission = GRAPH, item  # a bare permission such as User.Read is Graph's
            resources.setdefault(resource, []).append(permission)
        if len(resources) > 1:
            raise AadError(400, "invalid_scope", 700022,
                           "The provided value for the input parameter scope is not valid because it contains more "
                           f"than one resource. Scope {text} is not valid.")
        self.resource, permissions = next(iter(resources.items()), (GRAPH, [DEFAULT_PERMISSIONS[GRAPH]]))
        if ".default" in permissions:
            self.permissions = [DEFAULT_PERMISSIONS.get(self.resource, "user_impersonation")]
            listed = self.permissions + [".default"]
        else:
            self.permissions = listed = permissions
        if self.resource == GRAPH:
            oidc = [name for name in ("profile", "openid", "email") if name in self.oidc or "openid" in self.oidc]
            self.scp = " ".join(self.permissions + oidc)
            self.answered = " ".join(listed + oidc)
        else:
            self.scp = " ".join(self.permissions)
            self.answered = " ".join(f"{self.resource}/{permission}" for permission in listed)


def pairwise_subject(user, client_id):
    """`sub` of a person's tokens: a pairwise identifier, the same for one user and one client, other for others."""
    return b64url(hashlib.sha256(f"{user.object_id}|{client_id}".encode()).digest())


def user_claims(user, client_id, resource, scp, iat, exp):
    """A v1.0 access token for a person, as AAD issues it for resources such as ACR and ARM."""
    return {"aud": resource, "iss": f"https://sts.windows.net/{user.tenant}/", "iat": iat, "nbf": iat, "exp": exp,
            "appid": client_id, "appidacr": "0", "idtyp": "user", "name": user.name, "oid": user.object_id,
            "scp": scp, "sub": pairwise_subject(user, client_id), "tid": user.tenant, "unique_name": user.upn,
            "upn": user.upn, "ver": "1.0"}


def id_token_claims(call, user, client_id):
    iat = int(time.time())
    return {"aud": client_id, "iss": f"{call.base_url}/{user.tenant}/v2.0", "iat": iat, "nbf": iat,
            "exp": iat + ID_TOKEN_LIFETIME, "name": user.name, "oid": user.object_id,
            "preferred_username": user.upn, "sub": pairwise_subject(user, client_id), "tid": user.tenant,
            "ver": "2.0"}


def user_token_reply(em, call, user, client_id, scope, refresh_scope):
    """The token answer for a person: an access token, a new refresh token when `refresh_scope` (the consented scope
    string it carries) is given, and an id_token when `openid` was asked."""
    lifetime = em.lifetime("aad")
    iat, exp = validity(lifetime, call.expired_tokens)
    body = {"token_type": "Bearer", "scope": scope.answered, "expires_in": lifetime, "ext_expires_in": lifetime,
            "access_token": em.signer.sign(user_claims(user, client_id, scope.resource, scope.scp, iat, exp))}
    if refresh_scope is not None:
        body["refresh_token"] = new_refresh_token(em, user, client_id, refresh_scope)
    if "openid" in scope.oidc:
        body["id_token"] = em.signer.sign(id_token_claims(call, user, client_id))
    return json_reply(200, body)


def new_refresh_token(em, user, client_id, scope):
    value = opaque("1.AXkA", 240)
    with em.lock:
        em.refresh_tokens[value] = RefreshToken(user, client_id, scope, em.lifetimes["aad_refresh"])
    return value


def user_not_in_tenant(user, client_id, tenant):
    # The error (AADSTS50020) is documented; the real service shows it in the browser. Which `error` a polling
    # client would get is not documented: invalid_grant, as for the other unusable grants.
    return AadError(400, "invalid_grant", 50020,
                    f"User account '{user.upn}' from identity provider 'https://sts.windows.net/{user.tenant}/' does "
                    f"not exist in tenant '{tenant}' and cannot access the application '{client_id}'"
                    f"({app_name(client_id)}) in that tenant. The account needs to be added as an external user in "
                    "the tenant first. Sign out and sign in again with a different Azure Active Directory user "
                    "account.")


def openid_configuration(em, call, tenant):
    """`GET /{tenant}/v2.0/.well-known/openid-configuration`, which MSAL reads before its first request (tenant
    discovery): the endpoints of this emulator, and an issuer on its host."""
    if tenant not in em.directory.tenants and tenant not in TENANT_ALIASES:
        return aad_error_reply(call, tenant_not_found(tenant))
    base = f"{call.base_url}/{tenant}"
    issuer_tenant = "{tenantid}" if tenant in TENANT_ALIASES else tenant
    return json_reply(200, {
        "token_endpoint": f"{base}/oauth2/v2.0/token", "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
        "issuer": f"{call.base_url}/{issuer_tenant}/v2.0", "jwks_uri": f"{base}/discovery/v2.0/keys",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"], "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"], "tenant_region_scope": None,
        "cloud_instance_name": "microsoftonline.com", "request_uri_parameter_supported": False})


def aad_devicecode(em, call, tenant):
    """`POST /{tenant}/oauth2/v2.0/devicecode`: a device code for a public client, and the user code a person
    types at the verification URI."""
    try:
        if tenant not in em.directory.tenants and tenant not in TENANT_ALIASES:
            raise tenant_not_found(tenant)
        client_id = user_grant_client(em, call, tenant, devicecode=True)
        if not (call.field("scope") or "").strip():
            raise missing_parameter("scope")
        Scope(call.field("scope"))  # refuse a scope string AAD would refuse
    except AadError as failure:
        return aad_error_reply(call, failure)
    lifetime, interval = em.lifetime("device_code"), em.lifetime("device_interval")
    device_code = opaque("DAQABIQEAAAD--", 180)
    with em.lock:
        taken = {code.user_code for code in em.device_codes.values()}
        user_code = new_user_code()
        while user_code in taken:
            user_code = new_user_code()
        # A code already past its lifetime (fault expired_token) keeps the normal envelope, as token faults do.
        expires = time.time() + (-1 if call.expired_tokens else lifetime)
        em.device_codes[device_code] = DeviceCode(device_code, user_code, client_id, tenant, call.field("scope"),
                                                  expires)
    return json_reply(200, {
        "user_code": user_code, "device_code": device_code, "verification_uri": VERIFICATION_URI,
        "expires_in": lifetime, "interval": interval,
        "message": f"To sign in, use a web browser to open the page {VERIFICATION_URI} and enter the code "
                   f"{user_code} to authenticate."})


def invalid_device_code(error):
    # The docs name `bad_verification_code` for a device_code that is not recognized (`error` for an unknown code).
    # The description and code are what the real service is seen to send for a device_code it will not take, with
    # invalid_grant (`error` for a code already redeemed).
    return AadError(400, error, 70000, "The provided value for the input parameter 'device_code' is not valid.")


def device_code_grant(em, call, tenant):
    """Polling with a device code: pending, declined, expired, or tokens, once."""
    client_id = user_grant_client(em, call, tenant)
    value = call.field("device_code")
    if value is None:
        raise missing_parameter("device_code")
    with em.lock:
        code = em.device_codes.get(value)
        if code is None:
            raise invalid_device_code("bad_verification_code")
        if code.state == "redeemed":
            raise invalid_device_code("invalid_grant")
        if code.client_id != client_id:
            raise grant_of_another_client()
        if code.expired():
            raise AadError(400, "expired_token", 70020, "The provided value for the input parameter 'device_code' is "
                                                        "not valid. This device code has expired.")
        if code.state == "pending":
            raise AadError(400, "authorization_pending", 70016, "The provided request has not yet been authorized by "
                                                                "the user. The user must input their code.")
        if code.state == "declined":
            # `authorization_declined` is documented; its AADSTS code is not, 65004 (UserDeclinedConsent) is the
            # reference's code for a person who declines.
            raise AadError(400, "authorization_declined", 65004, "User declined to consent to access the app.")
        if code.failure:
            raise code.failure
        code.state = "redeemed"
    scope = Scope(code.scope)
    refresh_scope = code.scope if "offline_access" in scope.oidc else None
    return user_token_reply(em, call, code.user, client_id, scope, refresh_scope)


def grant_of_another_client():
    # Seen from the real service when a refresh token is redeemed by another client id (AADSTS700007).
    return AadError(400, "invalid_grant", 700007, "The grant was issued for a different client id.")


def stamp7(seconds):
    """A time as AAD writes it in grant errors: ISO 8601 with 7 fractional digits."""
    moment = datetime.fromtimestamp(seconds, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}0Z"


def timespan(seconds):
    """A duration as .NET prints a TimeSpan, as AAD writes it (`90.00:00:00`)."""
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    text = f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"
    return f"{days}.{text}" if days else text


def refresh_token_grant(em, call, tenant):
    """A new access token and a new refresh token for an AAD refresh token. The old one stays valid: AAD does not
    revoke a refresh token when it is used (except for SPAs), it only expects the client to keep the new one."""
    client_id = user_grant_client(em, call, tenant)
    value = call.field("refresh_token")
    if value is None:
        raise missing_parameter("refresh_token")
    with em.lock:
        record = em.refresh_tokens.get(value)
    if record is None:
        # What the real service answers for a refresh token it cannot read.
        raise AadError(400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.")
    if record.client_id != client_id:
        raise grant_of_another_client()
    if record.revoked_at is not None:
        raise AadError(400, "invalid_grant", 50173,
                       "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user "
                       f"might have changed or reset their password. The grant was issued on '{stamp7(record.issued)}' "
                       "and the TokensValidFrom date (before which tokens are not valid) for this user is "
                       f"'{stamp7(record.revoked_at)}'.")
    if time.time() >= record.expires:
        raise AadError(400, "invalid_grant", 700082,
                       "The refresh token has expired due to inactivity. The token was issued on "
                       f"{stamp7(record.issued)} and was inactive for {timespan(record.expires - record.issued)}.")
    user = record.user
    if tenant not in (record.tenant, *TENANT_ALIASES):
        raise user_not_in_tenant(user, client_id, tenant)
    # The scope is optional: without it the token is for the scopes first consented to.
    scope = Scope((call.field("scope") or "").strip() or record.scope)
    return user_token_reply(em, call, user, client_id, scope, record.scope)


# ---------------------------------------------------------------------------------------------------
# 2 and 3. Managed identity: IMDS and App Service / Container Apps
# ---------------------------------------------------------------------------------------------------

def choose_managed_identity(em, client_id, object_id, resource_id):
    """The managed identity a token request names, or the error message IMDS would give."""
    identities = em.directory.managed_identities
    if client_id or object_id or resource_id:
        chosen = next((i for i in identities if (client_id and i.client_id == client_id)
                       or (object_id and i.object_id == object_id)
                       or (resource_id and i.resource_id == resource_id)), None)
        return (chosen, None) if chosen else (None, "Identity not found")
    system = next((i for i in identities if i.system_assigned), None)
    if system:
        return system, None
    if len(identities) == 1:
        return identities[0], None
    if identities:
        return None, ("Multiple user assigned identities exist, please specify the clientId / resourceId of the "
                      "identity in the token request")
    return None, "Identity not found"


def managed_identity_token(em, call, identity, resource):
    lifetime = em.lifetime("managed_identity")
    iat, exp = validity(lifetime, call.expired_tokens)
    return em.signer.sign(aad_claims(identity, identity.tenant, resource, iat, exp)), iat, exp, lifetime


def imds(em, call):
    def failure(description):
        return json_reply(400, {"error": "invalid_request", "error_description": description})
    if (call.headers.get("Metadata") or "").lower() != "true":
        return failure("Required metadata header not specified")
    if not call.arg("api-version"):
        return failure("Required api-version parameter not specified")
    resource = call.arg("resource")
    if not resource:
        return failure("Required audience parameter not specified")
    identity, error = choose_managed_identity(em, call.arg("client_id"), call.arg("object_id"),
                                              call.arg("msi_res_id") or call.arg("mi_res_id"))
    if error:
        return failure(error)
    token, iat, exp, lifetime = managed_identity_token(em, call, identity, resource)
    return json_reply(200, {"access_token": token, "client_id": identity.client_id, "expires_in": str(lifetime),
                            "expires_on": str(exp), "ext_expires_in": str(lifetime), "not_before": str(iat),
                            "resource": resource, "token_type": "Bearer"})


def appservice(em, call):
    def failure(message):
        return json_reply(400, {"statusCode": 400, "message": message})
    if call.headers.get("X-IDENTITY-HEADER") != em.directory.identity_header:
        return failure("Missing or invalid X-IDENTITY-HEADER")
    resource = call.arg("resource")
    if not resource:
        return failure("Missing resource parameter")
    identity, error = choose_managed_identity(em, call.arg("client_id"),
                                              call.arg("principal_id") or call.arg("object_id"),
                                              call.arg("mi_res_id"))
    if call.arg("api-version") != "2019-08-01":
        return failure("api-version 2019-08-01 is required")
    if error:
        return failure(error)
    return host_token_reply(em, call, identity, resource, client_id=identity.client_id)


# ---------------------------------------------------------------------------------------------------
# 3b. The other managed-identity hosts (MSAL's detection order), and the CI services' OIDC tokens
# ---------------------------------------------------------------------------------------------------

def expires_on_text(em, exp):
    """`expires_on` in the form the managed-identity hosts' answers are set to send (MSAL accepts each)."""
    form = em.expires_on_format
    if form == "epoch_number":
        return exp
    if form == "date":  # older App Service versions, UTC
        return datetime.fromtimestamp(exp, timezone.utc).strftime("%m/%d/%Y %H:%M:%S +00:00")
    if form == "rfc3339":
        return datetime.fromtimestamp(exp, timezone.utc).isoformat()
    return str(exp)


def host_token_reply(em, call, identity, resource, **extra):
    token, iat, exp, lifetime = managed_identity_token(em, call, identity, resource)
    return json_reply(200, {"access_token": token, "expires_on": expires_on_text(em, exp), "resource": resource,
                            "token_type": "Bearer", **extra})


def automation(em, call):
    """Azure Automation: App Service's request, which it answers only with `Metadata: true` as well."""
    if (call.headers.get("Metadata") or "").lower() != "true":
        return json_reply(400, {"statusCode": 400, "message": "Required metadata header not specified"})
    return appservice(em, call)


def servicefabric(em, call):
    """Service Fabric: `GET $IDENTITY_ENDPOINT?api-version=2019-07-01-preview&resource=…`, header `Secret:
    $IDENTITY_HEADER`, over TLS with the cluster's own certificate (here the TLS listener's); `expires_on` a number."""
    if call.headers.get("Secret") != em.directory.identity_header:
        return json_reply(401, {"error": {"code": "SecretHeaderNotFound", "message": "Secret is not found in the request headers."}})
    if call.arg("api-version") != "2019-07-01-preview" or not call.arg("resource"):
        return json_reply(400, {"error": {"code": "InvalidParameter", "message": "api-version 2019-07-01-preview and resource are required"}})
    identity, error = choose_managed_identity(em, None, None, None)
    if error:
        return json_reply(400, {"error": {"code": "InvalidParameter", "message": error}})
    token, _, exp, _ = managed_identity_token(em, call, identity, call.arg("resource"))
    return json_reply(200, {"token_type": "Bearer", "access_token": token, "expires_on": exp, "resource": call.arg("resource")})


def azureml(em, call):
    """Azure Machine Learning compute: `GET $MSI_ENDPOINT?api-version=2017-09-01&resource=…&clientid=…`, header
    `secret: $MSI_SECRET`."""
    if call.headers.get("secret") != em.directory.msi_secret:
        return json_reply(401, {"error": "unauthorized", "message": "Missing or invalid secret header"})
    if call.arg("api-version") != "2017-09-01" or not call.arg("resource"):
        return json_reply(400, {"error": "invalid_request", "message": "api-version 2017-09-01 and resource are required"})
    identity, error = choose_managed_identity(em, call.arg("clientid"), None, None)
    if error:
        return json_reply(400, {"error": "invalid_request", "message": error})
    return host_token_reply(em, call, identity, call.arg("resource"), client_id=identity.client_id)


def cloudshell(em, call):
    """Cloud Shell: `POST $MSI_ENDPOINT`, form `resource=…`, `Metadata: true`; the signed-in user's one identity."""
    if (call.headers.get("Metadata") or "").lower() != "true":
        return json_reply(400, {"error": "invalid_request", "error_description": "Required metadata header not specified"})
    resource = call.field("resource")
    if not resource:
        return json_reply(400, {"error": "invalid_request", "error_description": "resource is required"})
    identity, error = choose_managed_identity(em, None, None, None)
    if error:
        return json_reply(400, {"error": "invalid_request", "error_description": error})
    lifetime = em.lifetime("managed_identity")
    return host_token_reply(em, call, identity, resource, expires_in=str(lifetime))


def arc(em, call):
    """The Azure Arc agent (himds): a request without `Authorization` gets 401 and `WWW-Authenticate: Basic
    realm=<key file>`, a new file of random bytes in the agent's folder; the same request with `Authorization:
    Basic <those bytes>` gets IMDS's answer, and the file is used up."""
    if (call.headers.get("Metadata") or "").lower() != "true" or call.arg("api-version") != "2020-06-01":
        return json_reply(400, {"error": "invalid_request",
                                "error_description": "Metadata: true and api-version 2020-06-01 are required"})
    if not call.arg("resource"):
        return json_reply(400, {"error": "invalid_request", "error_description": "Required audience parameter not specified"})
    if call.arg("client_id") or call.arg("object_id") or call.arg("msi_res_id"):
        return json_reply(400, {"error": "invalid_request",
                                "error_description": "User assigned identities are not supported on Azure Arc"})
    scheme, _, key = (call.headers.get("Authorization") or "").partition(" ")
    if scheme.lower() != "basic":
        if call.fault and call.fault["kind"] == "realm":
            path = call.fault["location"]
        else:
            path = os.path.join(em.directory.arc_key_dir, f"{uuid.uuid4()}.key")
            secret = b64url(os.urandom(32))
            with open(path, "w", encoding="ascii") as out:
                out.write(secret)
            with em.lock:
                em.arc_keys[secret] = path
        return json_reply(401, {"error": "unauthorized", "error_description": "Basic challenge"},
                          headers={"WWW-Authenticate": f"Basic realm={path}"})
    with em.lock:
        path = em.arc_keys.pop(key.strip(), None)
    if path is None:
        return json_reply(401, {"error": "unauthorized", "error_description": "Invalid key"})
    os.remove(path)
    identity, error = choose_managed_identity(em, None, None, None)
    if error:
        return json_reply(400, {"error": "invalid_request", "error_description": error})
    token, iat, exp, lifetime = managed_identity_token(em, call, identity, call.arg("resource"))
    return json_reply(200, {"access_token": token, "expires_in": str(lifetime), "expires_on": str(exp),
                            "ext_expires_in": str(lifetime), "not_before": str(iat), "resource": call.arg("resource"),
                            "token_type": "Bearer"})


def oidc_token_claims(issuer, subject, audience, lifetime, **extra):
    iat = int(time.time())
    return {"iss": issuer, "sub": subject, "aud": audience, "iat": iat, "nbf": iat, "exp": iat + lifetime,
            "jti": str(uuid.uuid4()), **extra}


def github_oidc(em, call):
    """GitHub Actions' ID token endpoint: `GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=…` with `Authorization: Bearer
    $ACTIONS_ID_TOKEN_REQUEST_TOKEN` → `{"count": …, "value": <JWT>}`, a token of a few minutes."""
    github = em.directory.github
    if (call.headers.get("Authorization") or "") != f"Bearer {github['request_token']}":
        return json_reply(401, {"message": "Bad credentials"})
    audience = call.arg("audience") or "https://github.com/contoso"
    repository = github["subject"].split(":")[1] if ":" in github["subject"] else "contoso/app"
    claims = oidc_token_claims("https://token.actions.githubusercontent.com", github["subject"], audience,
                               em.lifetime("ci_oidc"), repository=repository, ref="refs/heads/main",
                               run_id=str(int(time.time())))
    token = em.signer.sign(claims)
    return json_reply(200, {"count": len(token), "value": token})


def pipelines_oidc(em, call):
    """Azure Pipelines' OIDC endpoint: `POST $SYSTEM_OIDCREQUESTURI?api-version=7.1&serviceConnectionId=<id>` with
    `Authorization: Bearer $SYSTEM_ACCESSTOKEN` and `Content-Type: application/json` → `{"oidcToken": <JWT>}`. An
    unauthorised request is redirected to a sign-in page unless `X-TFS-FedAuthRedirect: Suppress` asks for a 401."""
    pipelines = em.directory.pipelines
    if (call.headers.get("Authorization") or "") != f"Bearer {pipelines['access_token']}":
        if (call.headers.get("X-TFS-FedAuthRedirect") or "").lower() == "suppress":
            return json_reply(401, {"message": "TF400813: The user '' is not authorized to access this resource."})
        return json_reply(302, {}, {"Location": "https://spsprodweu5.vssps.visualstudio.com/_signin"})
    if not (call.headers.get("Content-Type") or "").startswith("application/json"):
        return json_reply(415, {"message": "Content-Type application/json is required"})
    if not (call.arg("api-version") or "").startswith("7.1"):
        return json_reply(400, {"message": "api-version 7.1 is required"})
    subject = pipelines["service_connections"].get(call.arg("serviceConnectionId") or "")
    if subject is None:
        return json_reply(404, {"message": f"Service connection {call.arg('serviceConnectionId')} was not found."})
    issuer = f"https://vstoken.dev.azure.com/{pipelines['organization_id']}"
    token = em.signer.sign(oidc_token_claims(issuer, subject, call.arg("audience") or "api://AzureADTokenExchange",
                                             em.lifetime("ci_oidc")))
    return json_reply(200, {"oidcToken": token})


# ---------------------------------------------------------------------------------------------------
# 4. Azure Container Registry
# ---------------------------------------------------------------------------------------------------

def acr_error(status, code, message):
    return json_reply(status, {"errors": [{"code": code, "message": message}]})


def bearer_challenge(call, server):
    realm = f"{call.base_url}/acr/{server}/oauth2/token"
    return f'Bearer realm="{realm}",service="{server}"'


def acr_challenge(em, call, server):
    return json_reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": AUTH_REQUIRED, "detail": None}]},
                      headers={"WWW-Authenticate": bearer_challenge(call, server),
                               "Docker-Distribution-Api-Version": "registry/2.0"})


def acr_claims(em, server, subject, appid, tenant, grant_type, lifetime, expired):
    """ACR's claims. An app's or managed identity's tokens name it in `appid`; a person's have no `appid` (None),
    as in ACR's documented claim set of a user's tokens, which names the person in `sub` and has `tenant`."""
    iat, exp = validity(lifetime, expired)
    claims = {"jti": str(uuid.uuid4()), "sub": subject, "nbf": iat, "exp": exp, "iat": iat,
              "iss": em.directory.acr_issuer, "aud": server, "version": "1.0", "rid": uuid.uuid4().hex,
              "grant_type": grant_type, "appid": appid, "tenant": tenant}
    if appid is None:
        del claims["appid"]
    return claims


def acr_exchange(em, call, server):
    if call.field("grant_type") != "access_token":
        return acr_error(400, "UNSUPPORTED", f"grant type '{call.field('grant_type')}' is not supported")
    if call.field("service") != server:
        return acr_error(400, "UNSUPPORTED", f"service '{call.field('service')}' is not this registry")
    try:
        claims = em.signer.verify(call.field("access_token") or "")
    except JwtError:
        return acr_error(401, "UNAUTHORIZED", "Invalid AAD access token")
    if claims.get("aud") not in ACR_AAD_AUDIENCES or not claims.get("tid"):
        return acr_error(401, "UNAUTHORIZED", "Invalid AAD access token")
    if not isinstance(claims.get("exp"), int) or claims["exp"] <= time.time():
        return acr_error(401, "UNAUTHORIZED", "AAD access token expired")
    # ACR takes the tenant from the token when the form leaves it out.
    if call.field("tenant") is not None and call.field("tenant") != claims["tid"]:
        return acr_error(401, "UNAUTHORIZED", "tenant mismatch")
    # A person's token (idtyp user) names the public client they signed in through as appid; ACR's roles are the
    # person's, so their refresh token carries only the person (sub = oid), and roles are looked up by it.
    appid = None if claims.get("idtyp") == "user" else claims.get("appid")
    refresh = acr_claims(em, server, claims.get("oid"), appid, claims["tid"], "refresh_token",
                         em.lifetime("acr_refresh"), call.expired_tokens)
    refresh.update({"permissions": {"actions": ["read"], "notActions": None}, "roles": []})
    return json_reply(200, {"refresh_token": em.signer.sign(refresh)})


def requested_access(allowed, catalog, scopes):
    """The `access` claim: each requested scope with the `allowed` repository actions it asks for, and
    `registry:catalog:*` when `catalog` is true."""
    access = []
    for scope in " ".join(scopes).split():
        kind, _, rest = scope.partition(":")
        name, _, actions = rest.rpartition(":")
        if not name:
            continue
        kind = kind.split("(")[0]  # "repository(plugin)" is still a repository
        if kind == "repository":
            wanted = actions.split(",")
            granted = [action for action in allowed if action in wanted]
        elif kind == "registry" and name == "catalog":
            granted = ["*"] if catalog else []
        else:
            continue
        access.append({"type": kind, "name": name, "actions": granted})
    return access


def acr_token(em, call, server):
    if call.method == "GET":
        # Docker's token auth: the null GUID as user name and the ACR refresh token as password.
        params = call.query
        if call.headers.get("Authorization") is None:
            return anonymous_token(em, call, server)
        # Wrong credentials stay a 401 even with anonymous pull on: ACR does not fall back to anonymous, which is
        # why stale stored credentials block an anonymous pull.
        user, _, refresh_token = basic_credentials(call.headers.get("Authorization"))
        if user != NULL_GUID:
            return acr_error(401, "UNAUTHORIZED", "authentication required, use an ACR refresh token as the "
                             f"password of user {NULL_GUID}")
    else:
        params = call.form
        if call.field("grant_type") != "refresh_token":
            return acr_error(400, "UNSUPPORTED", f"grant type '{call.field('grant_type')}' is not supported")
        refresh_token = call.field("refresh_token") or ""
    if failure := wrong_service(params, server):
        return failure
    try:
        claims = em.signer.verify(refresh_token)
    except JwtError:
        return acr_error(401, "UNAUTHORIZED", "invalid refresh token")
    if claims.get("grant_type") != "refresh_token" or claims.get("aud") != server \
            or claims.get("iss") != em.directory.acr_issuer:
        return acr_error(401, "UNAUTHORIZED", "invalid refresh token")
    if not isinstance(claims.get("exp"), int) or claims["exp"] <= time.time():
        return acr_error(401, "UNAUTHORIZED", "refresh token expired")
    access = acr_claims(em, server, claims.get("sub"), claims.get("appid"), claims.get("tenant"), "access_token",
                        em.lifetime("acr_access"), call.expired_tokens)
    # Roles are keyed by the app's client id, or, in a person's tokens (no appid), by the person's object id.
    allowed = em.directory.actions(server, claims.get("appid") or claims.get("sub"))
    access.update({"access": requested_access(allowed, bool(allowed), params.get("scope", [])), "roles": []})
    token = em.signer.sign(access)
    return json_reply(200, {"token": token, "access_token": token} if call.method == "GET"
                      else {"access_token": token})


def wrong_service(params, server):
    """ACR's answer to a token request whose `service` is not this registry; None when it is."""
    service = (params.get("service") or [None])[0]
    return None if service == server else acr_error(400, "UNSUPPORTED", f"service '{service}' is not this registry")


def anonymous_token(em, call, server):
    """A token request without credentials: a 401 challenge, unless the registry has anonymous pull enabled, in
    which case an access token that grants `pull` on the requested repositories and nothing else (no push or
    delete, no catalog listing), for no one: empty `sub`, no `appid` or `tenant`."""
    if server not in em.directory.anonymous_pull:
        return json_reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": AUTH_REQUIRED}]},
                          headers={"WWW-Authenticate": bearer_challenge(call, server)})
    if failure := wrong_service(call.query, server):
        return failure
    access = acr_claims(em, server, "", None, None, "access_token", em.lifetime("acr_access"), call.expired_tokens)
    del access["tenant"]
    access.update({"access": requested_access(["pull"], False, call.query.get("scope", [])), "roles": []})
    token = em.signer.sign(access)
    return json_reply(200, {"token": token, "access_token": token})


def basic_credentials(authorization):
    """(user, ':', password) of an HTTP Basic Authorization header; empty strings when there is none."""
    scheme, _, encoded = (authorization or "").partition(" ")
    if scheme.lower() != "basic":
        return "", "", ""
    try:
        return base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except ValueError:
        return "", "", ""


# ---------------------------------------------------------------------------------------------------
# 5. Control endpoints and faults
# ---------------------------------------------------------------------------------------------------

def control(em, call, action):
    if action == "stats" and call.method == "GET":
        with em.lock:
            return json_reply(200, dict(em.counts))
    if action == "reset" and call.method == "POST":
        em.reset()
        return json_reply(200, {"status": "ok"})
    if action == "faults" and call.method == "POST":
        return add_fault(em, call)
    if action == "lifetimes" and call.method == "POST":
        return set_lifetimes(em, call)
    if action == "expires-on" and call.method == "POST":
        return set_expires_on(em, call)
    if action == "federated-token" and call.method == "GET":
        return federated_token(em, call)
    if action == "aad-token" and call.method == "GET":
        return control_aad_token(em, call)
    if action == "device-codes" and call.method == "GET":
        return pending_device_codes(em)
    if action == "device-codes/approve" and call.method == "POST":
        return approve_device_code(em, call)
    if action == "revoke" and call.method == "POST":
        return revoke_sessions(em, call)
    return json_reply(404, {"error": f"no control endpoint {call.method} /_emulator/{action}"})


def json_body(call):
    try:
        body = json.loads(call.body or b"{}")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def add_fault(em, call):
    spec = json_body(call)
    if spec is None or spec.get("endpoint") not in ENDPOINTS:
        return json_reply(400, {"error": f"a JSON object with endpoint one of {', '.join(ENDPOINTS)}"})
    kind, status, count = spec.get("kind"), spec.get("status"), spec.get("count", 1)
    if kind not in (None, *FAULT_KINDS) or (kind is None and not isinstance(status, int)):
        return json_reply(400, {"error": f"kind must be one of {', '.join(FAULT_KINDS)}, or status an integer"})
    if not isinstance(count, int) or count == 0 or count < -1:
        return json_reply(400, {"error": "count must be a positive integer or -1"})
    fault = {"endpoint": spec["endpoint"], "kind": kind, "status": status, "count": count,
             "retry_after": spec.get("retry_after"), "delay_ms": spec.get("delay_ms") or 0,
             "body": spec.get("body"), "location": spec.get("location")}
    with em.lock:
        em.faults[fault["endpoint"]].append(fault)
    return json_reply(200, fault)


def set_lifetimes(em, call):
    spec = json_body(call)
    if spec is None or not spec or any(name not in DEFAULT_LIFETIMES or not isinstance(value, int)
                                       for name, value in spec.items()):
        return json_reply(400, {"error": f"a JSON object of integer seconds for {', '.join(DEFAULT_LIFETIMES)}"})
    with em.lock:
        em.lifetimes.update(spec)
        return json_reply(200, dict(em.lifetimes))


EXPIRES_ON_FORMATS = ("epoch_string", "epoch_number", "date", "rfc3339")


def set_expires_on(em, call):
    """`{"format": …}`: how App Service, Automation, Azure ML and Cloud Shell write `expires_on` until reset."""
    spec = json_body(call)
    if spec is None or spec.get("format") not in EXPIRES_ON_FORMATS:
        return json_reply(400, {"error": f"format must be one of {', '.join(EXPIRES_ON_FORMATS)}"})
    with em.lock:
        em.expires_on_format = spec["format"]
    return json_reply(200, spec)


def int_arg(call, name, default):
    try:
        return int(call.arg(name)) if call.arg(name) is not None else default
    except ValueError:
        return None


def federated_token(em, call):
    """A workload identity token, as a Kubernetes service account token projected for Azure would be."""
    subject, lifetime = call.arg("subject"), int_arg(call, "lifetime", 3600)
    if not subject or lifetime is None:
        return json_reply(400, {"error": "subject is required and lifetime must be an integer"})
    iat, exp = validity(lifetime)
    token = em.signer.sign({"iss": call.arg("issuer") or "https://oidc.emulator.local/", "sub": subject,
                            "aud": call.arg("audience") or "api://AzureADTokenExchange",
                            "iat": iat, "nbf": iat, "exp": exp, "jti": str(uuid.uuid4())})
    return Reply(200, token.encode(), content_type="text/plain; charset=utf-8")


def control_aad_token(em, call):
    """An AAD access token as `az account get-access-token` would print it, for a fake az CLI: an app's or managed
    identity's (`client_id`), or a person's signed in through the Azure CLI (`user`)."""
    user = em.directory.user(call.arg("user")) if call.arg("user") else None
    identity = None if user else em.directory.any_identity(call.arg("client_id"))
    lifetime = int_arg(call, "lifetime", em.lifetime("aad"))
    if (user or identity) is None or lifetime is None:
        return json_reply(400, {"error": "client_id must name a configured identity, or user a configured user; "
                                         "lifetime an integer"})
    resource = call.arg("resource") or "https://management.core.windows.net/"
    iat, exp = validity(lifetime)
    if user:
        tenant = user.tenant
        claims = user_claims(user, call.arg("client_id") or AZURE_CLI, resource, "user_impersonation", iat, exp)
    else:
        tenant = call.arg("tenant") or identity.tenant
        claims = aad_claims(identity, tenant, resource, iat, exp)
    return json_reply(200, {"accessToken": em.signer.sign(claims), "expires_on": exp, "tenant": tenant})


def pending_device_codes(em):
    """The device codes waiting for a person, as the sign-in page knows them (never the device_code itself)."""
    with em.lock:
        pending = [{"user_code": code.user_code, "client_id": code.client_id, "tenant": code.tenant,
                    "scope": code.scope} for code in em.device_codes.values()
                   if code.state == "pending" and not code.expired()]
    return json_reply(200, {"pending": pending})


def approve_device_code(em, call):
    """The person at the verification URI: enters `user_code` (optional when only one code waits) and signs in as
    `user`, or declines (`decline: true`). A person who is not in the code's tenant is let through here, and the
    polling client gets AADSTS50020."""
    spec = json_body(call)
    if spec is None:
        return json_reply(400, {"error": "a JSON object {user, user_code?, decline?}"})
    decline = spec.get("decline") is True
    user = em.directory.user(spec.get("user"))
    if user is None and not decline:
        return json_reply(400, {"error": f"user must name a configured user (UPN or object id), got "
                                         f"{spec.get('user')!r}"})
    with em.lock:
        pending = [code for code in em.device_codes.values() if code.state == "pending" and not code.expired()]
        if spec.get("user_code") is not None:
            pending = [code for code in pending if code.user_code == str(spec["user_code"]).upper()]
        if not pending:
            named = f" with user_code {spec['user_code']!r}" if spec.get("user_code") is not None else ""
            return json_reply(400, {"error": f"no pending device code{named}"})
        if len(pending) > 1:
            return json_reply(400, {"error": f"{len(pending)} pending device codes: name one by user_code"})
        code = pending[0]
        if decline:
            code.state = "declined"
        else:
            code.state, code.user = "approved", user
            if code.tenant not in (user.tenant, *TENANT_ALIASES):
                code.failure = user_not_in_tenant(user, code.client_id, code.tenant)
        return json_reply(200, {"user_code": code.user_code, "status": code.state,
                                "user": user.upn if user else None})


def revoke_sessions(em, call):
    """"Revoke sessions" of a person: every refresh token they hold stops working (AADSTS50173)."""
    spec = json_body(call)
    user = em.directory.user((spec or {}).get("user"))
    if user is None:
        return json_reply(400, {"error": "a JSON object {user} naming a configured user (UPN or object id)"})
    now = time.time()
    with em.lock:
        revoked = [record for record in em.refresh_tokens.values()
                   if record.user is user and record.revoked_at is None]
        for record in revoked:
            record.revoked_at = now
    return json_reply(200, {"revoked": len(revoked)})


def fault_reply(endpoint, fault):
    """The answer a status fault (no kind) or a fault kind that replaces the answer gives; None for the kinds that
    alter the normal answer (slow, expired_token, truncated) or give none (close)."""
    kind = fault["kind"]
    if kind == "malformed":
        return Reply(200, MALFORMED_BODIES[endpoint])
    if kind == "firewall":
        return json_reply(403, FIREWALL_BODY)
    if kind == "no_refresh_token":
        return json_reply(200, {})
    if kind == "redirect":
        return json_reply(307, {}, {"Location": fault["location"] or "http://127.0.0.1:9/elsewhere"})
    if kind == "oversized":
        return Reply(200, b'{"padding":"' + b"x" * (2 << 20) + b'"}')
    if kind == "gzip_bomb":
        return Reply(200, gzip.compress(b"0" * (64 << 20)), headers={"Content-Encoding": "gzip"})
    if kind == "echo":
        return None
    if kind == "not_jwt":
        return json_reply(200, {"refresh_token": "opaque-refresh-token", "access_token": "opaque-access-token"})
    if kind is not None:
        return None
    status = fault["status"]
    headers = {"Retry-After": str(fault["retry_after"])} if fault["retry_after"] is not None else None
    body = fault["body"] if fault["body"] is not None else default_error_body(endpoint, status)
    return json_reply(status, body, headers)


def echo_reply(endpoint, handler, call):
    """A 400 whose message repeats the request it answers, with ESC, BEL and newlines in it."""
    request = f"{handler.command} {handler.path}\n{handler.headers}\n{call.body.decode(errors='replace')}"
    text = f"\x1b[31mAADSTS50000: echo\x07 {request}\x1b[0m"
    if endpoint in ("aad_token", "aad_devicecode"):
        return json_reply(400, {"error": "invalid_request", "error_description": text, "error_codes": [50000]})
    if endpoint in ("imds", "appservice", "automation", "azureml", "cloudshell", "arc"):
        return json_reply(400, {"error": "invalid_request", "error_description": text})
    if endpoint == "servicefabric":
        return json_reply(400, {"error": {"code": "InvalidParameter", "message": text}})
    if endpoint in ("github_oidc", "pipelines_oidc"):
        return json_reply(400, {"message": text})
    return json_reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": text}]})


def default_error_body(endpoint, status):
    """A plausible error body for `status` in the shape of the service behind `endpoint`."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    if endpoint in ("aad_token", "aad_devicecode"):
        transient = status == 429 or status >= 500
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
        trace_id, correlation_id = str(uuid.uuid4()), str(uuid.uuid4())
        return {"error": "temporarily_unavailable" if transient else "invalid_request",
                "error_description": f"AADSTS90033: A transient error has occurred. Please try again. Trace ID: "
                                     f"{trace_id} Correlation ID: {correlation_id} Timestamp: {stamp}",
                "error_codes": [90033], "timestamp": stamp, "trace_id": trace_id, "correlation_id": correlation_id,
                "error_uri": "https://login.microsoftonline.com/error?code=90033"}
    if endpoint == "imds":
        return {"error": phrase.lower().replace(" ", "_"), "error_description": phrase}
    if endpoint in ("appservice", "automation"):
        return {"statusCode": status, "message": phrase}
    if endpoint in ("azureml", "cloudshell", "arc"):
        return {"error": phrase.lower().replace(" ", "_"), "error_description": phrase}
    if endpoint == "servicefabric":
        return {"error": {"code": phrase.replace(" ", ""), "message": phrase}}
    if endpoint in ("github_oidc", "pipelines_oidc"):
        return {"message": phrase}
    # Error codes of the Docker registry API, which ACR uses.
    code = {400: "UNSUPPORTED", 401: "UNAUTHORIZED", 403: "DENIED", 404: "NAME_UNKNOWN",
            429: "TOOMANYREQUESTS", 503: "UNAVAILABLE"}.get(status, "UNKNOWN")
    return {"errors": [{"code": code, "message": phrase.lower()}]}


# ---------------------------------------------------------------------------------------------------
# HTTP plumbing
# ---------------------------------------------------------------------------------------------------

def route(method, path, directory):
    """(endpoint name, handler taking (emulator, call), allowed methods) for a path; (None, None, None) if unknown."""
    parts = path.split("/")
    if path.startswith("/_emulator/"):
        return "control", lambda em, call: control(em, call, path[len("/_emulator/"):]), ("GET", "POST")
    if path == "/metadata/identity/oauth2/token":
        # The Arc agent serves IMDS's path on its own port; an emulator given its key folder plays it.
        return ("arc", arc, ("GET",)) if directory.arc else ("imds", imds, ("GET",))
    hosts = {"/msi/token": ("appservice", appservice, ("GET",)),
             "/automation/msi/token": ("automation", automation, ("GET",)),
             "/servicefabric/metadata/identity/oauth2/token": ("servicefabric", servicefabric, ("GET",)),
             "/azureml/msi/token": ("azureml", azureml, ("GET",)),
             "/cloudshell/oauth2/token": ("cloudshell", cloudshell, ("POST",)),
             "/github/idtoken": ("github_oidc", github_oidc, ("GET",))}
    if path in hosts:
        return hosts[path]
    if path.endswith("/oidctoken") and path.startswith("/pipelines/"):
        return "pipelines_oidc", pipelines_oidc, ("POST",)
    if len(parts) == 5 and parts[2:] == ["oauth2", "v2.0", "token"] and parts[1]:
        return "aad_token", lambda em, call: aad_token(em, call, parts[1]), ("POST",)
    if len(parts) == 5 and parts[2:] == ["v2.0", ".well-known", "openid-configuration"] and parts[1]:
        return "aad_discovery", lambda em, call: openid_configuration(em, call, parts[1]), ("GET",)
    if len(parts) == 5 and parts[2:] == ["oauth2", "v2.0", "devicecode"] and parts[1]:
        return "aad_devicecode", lambda em, call: aad_devicecode(em, call, parts[1]), ("POST",)
    if len(parts) >= 4 and parts[1] == "acr":
        server, rest = parts[2], "/".join(parts[3:])
        endpoint, handler, methods = {"v2": ("acr_challenge", acr_challenge, ("GET",)),
                                      "v2/": ("acr_challenge", acr_challenge, ("GET",)),
                                      "oauth2/exchange": ("acr_exchange", acr_exchange, ("POST",)),
                                      "oauth2/token": ("acr_token", acr_token, ("GET", "POST"))
                                      }.get(rest, (None, None, None))
        if endpoint is None:
            return None, None, None
        if server not in directory.registries:
            return endpoint, lambda em, call: acr_error(404, "NAME_UNKNOWN", "registry not found"), methods
        return endpoint, lambda em, call: handler(em, call, server), methods
    return None, None, None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "azure-emulator"
    # The head and the body go out in two writes; with Nagle's algorithm the body would wait for the client's
    # delayed ACK (40 ms) on a kept-alive connection, which the services' front ends do not make clients wait.
    disable_nagle_algorithm = True

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def log_message(self, format, *args):
        """Silenced: every request goes to requests.log instead."""

    def dispatch(self):
        em = self.server.emulator
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        form = {}
        if (self.headers.get("Content-Type") or "").startswith("application/x-www-form-urlencoded"):
            form = parse_qs(body.decode(errors="replace"), keep_blank_values=True)
        query = parse_qs(url.query, keep_blank_values=True)
        endpoint, handler, methods = route(self.command, url.path, em.directory)
        fault = None
        if endpoint not in (None, "control"):
            em.count(endpoint)
            time.sleep(em.delay)
            fault = em.take_fault(endpoint)
        call = Call(self, url.path, query, body, form, fault)
        status = self.answer(endpoint, handler, methods, call, fault)
        grant_type = (form.get("grant_type") or query.get("grant_type") or [None])[0]
        entry = {"t": time.time(), "method": self.command, "path": url.path, "endpoint": endpoint,
                 "user_agent": self.headers.get("User-Agent")}
        if grant_type is not None:
            entry["grant_type"] = grant_type
        entry.update(call.notes)
        entry["status"] = status
        em.log(entry)

    def answer(self, endpoint, handler, methods, call, fault):
        """Send the answer to `call` and return its status (None when the connection is closed unanswered)."""
        if fault and fault["kind"] != "drip_body":
            time.sleep(fault["delay_ms"] / 1000)
            if fault["kind"] == "close":
                self.close_connection = True
                return None
        if endpoint is None:
            reply = json_reply(404, {"error": f"no such endpoint {call.path}"})
        elif self.command not in methods:
            reply = json_reply(405, {"error": f"{self.command} not allowed on {call.path}"},
                               headers={"Allow": ", ".join(methods)})
        else:
            reply = (fault and fault_reply(endpoint, fault)) or handler(self.server.emulator, call)
            if fault and fault["kind"] == "echo":
                reply = echo_reply(endpoint, self, call)
        truncated = bool(fault) and fault["kind"] == "truncated"
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        kind = fault["kind"] if fault else None
        if kind in ("stall_body", "drip_body"):
            # The head at once, then the body: not at all (until the client gives up), or a byte at a time.
            self.wfile.flush()
            for byte in reply.body:
                time.sleep(max(fault["delay_ms"], 100) / 1000 if kind == "drip_body" else 3600)
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
            return reply.status
        # A truncated answer promises the whole body but sends half of it, then hangs up.
        self.wfile.write(reply.body[:len(reply.body) // 2] if truncated else reply.body)
        if truncated:
            self.close_connection = True
        return reply.status


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # room for bursts of many parallel clients (the default backlog is 5)
    scheme = "http"

    def __init__(self, port, emulator, host="127.0.0.1"):
        super().__init__((host, port), Handler)
        self.emulator = emulator

    def handle_error(self, request, client_address):
        # A client that hangs up mid-answer is normal in fault tests, and one that refuses the TLS certificate in
        # handshake tests; anything else is worth a trace.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError, ssl.SSLError)):
            super().handle_error(request, client_address)


class TlsServer(Server):
    """The same routes and state over TLS, with the certificate of `tls_certificate`."""
    scheme = "https"

    def __init__(self, port, emulator, cert_path, key_path, host="127.0.0.1"):
        super().__init__(port, emulator, host)
        self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.tls.load_cert_chain(cert_path, key_path)

    def get_request(self):
        # The handshake is left to the request's own thread (finish_request): a client that stalls or refuses the
        # certificate must not hold up accept() for the others.
        sock, address = super().get_request()
        return self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address

    def finish_request(self, request, client_address):
        request.do_handshake()
        super().finish_request(request, client_address)


def write_port_file(path, port):
    # Written only once the socket listens, and atomically, so that a test polling for it can connect.
    partial = f"{path}.partial"
    with open(partial, "w", encoding="utf-8") as out:
        out.write(f"{port}\n")
    os.replace(partial, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", required=True, help="JSON file of tenants, identities and registries")
    parser.add_argument("--state-dir", required=True, help="where the signing key, certificate and log go")
    parser.add_argument("--port-file", required=True, help="gets the port number once the server listens")
    parser.add_argument("--host", default="127.0.0.1",
                        help="the address to listen on: 127.0.0.1, or one of a network namespace a test made itself")
    parser.add_argument("--port", type=int, default=0, help="port on the host; 0 picks a free one")
    parser.add_argument("--delay-ms", type=int, default=0, help="sleep before every non-control answer")
    parser.add_argument("--tls-port-file", help="also serve HTTPS, and write its port number here once it listens")
    parser.add_argument("--tls-port", type=int, default=0, help="HTTPS port on 127.0.0.1; 0 picks a free one")
    args = parser.parse_args()
    os.makedirs(args.state_dir, exist_ok=True)
    signer = Signer(args.state_dir)
    emulator = Emulator(Directory(args.config, args.state_dir), signer, args.state_dir, args.delay_ms)
    server = Server(args.port, emulator, args.host)
    if args.tls_port_file:
        tls_server = TlsServer(args.tls_port, emulator, *tls_certificate(args.state_dir, args.host), args.host)
        # A daemon thread, so that the process ends with the main thread's serve_forever (Ctrl-C).
        threading.Thread(target=tls_server.serve_forever, name="tls", daemon=True).start()
        write_port_file(args.tls_port_file, tls_server.server_port)
    # Last, so that once the port file exists every listener is up.
    write_port_file(args.port_file, server.server_port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
