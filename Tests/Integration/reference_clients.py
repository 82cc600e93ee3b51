#!/usr/bin/env python3
"""Microsoft's own clients (msal and azure-identity, from PyPI) against the Azure emulator, as reference
clients: the emulator must accept what they send and answer what they parse. One scenario per run, from
the environment the test sets (the hosts' usual variables, pointed at the emulator):

    reference_clients.py managed-identity | cloud-shell | azure-pipelines | github-actions

Prints the token's claims as JSON and exits 0, or prints the client's error and exits 1."""

import base64
import json
import os
import sys
import urllib.request

RESOURCE = "https://containerregistry.azure.net"


def claims(token):
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def managed_identity():
    """MSAL's own detection (App Service, Automation, Azure ML, Arc, else IMDS) and request."""
    import msal
    import requests
    client = msal.ManagedIdentityClient(msal.SystemAssignedManagedIdentity(), http_client=requests.Session())
    result = client.acquire_token_for_client(resource=RESOURCE)
    if "access_token" not in result:
        raise RuntimeError(json.dumps(result))
    return result["access_token"]


def azure_identity(credential):
    return credential.get_token(RESOURCE + "/.default").token


def main():
    scenario = sys.argv[1]
    # Azure AD over the emulator's TLS listener (MSAL insists on https), never Microsoft's instance discovery.
    aad = {"authority": os.environ.get("REFERENCE_AUTHORITY", ""), "disable_instance_discovery": True}
    if scenario == "managed-identity":
        token = managed_identity()
    elif scenario == "cloud-shell":
        from azure.identity import ManagedIdentityCredential
        token = azure_identity(ManagedIdentityCredential())
    elif scenario == "azure-pipelines":
        from azure.identity import AzurePipelinesCredential
        token = azure_identity(AzurePipelinesCredential(
            tenant_id=os.environ["AZURESUBSCRIPTION_TENANT_ID"], client_id=os.environ["AZURESUBSCRIPTION_CLIENT_ID"],
            service_connection_id=os.environ["AZURESUBSCRIPTION_SERVICE_CONNECTION_ID"],
            system_access_token=os.environ["SYSTEM_ACCESSTOKEN"], **aad))
    elif scenario == "github-actions":
        # azure-identity has no GitHub credential: the Azure login action's way, a client assertion callback.
        from azure.identity import ClientAssertionCredential

        def id_token():
            request = urllib.request.Request(
                os.environ["ACTIONS_ID_TOKEN_REQUEST_URL"] + "&audience=api%3A%2F%2FAzureADTokenExchange",
                headers={"Authorization": "Bearer " + os.environ["ACTIONS_ID_TOKEN_REQUEST_TOKEN"]})
            with urllib.request.urlopen(request, timeout=10) as answer:
                return json.load(answer)["value"]
        token = azure_identity(ClientAssertionCredential(
            os.environ["AZURE_TENANT_ID"], os.environ["AZURE_CLIENT_ID"], id_token, **aad))
    else:
        sys.exit(f"unknown scenario {scenario}")
    print(json.dumps(claims(token)))


if __name__ == "__main__":
    try:
        main()
    except Exception as error:  # the client's own words, for the test's failure message
        print(f"{type(error).__name__}: {error}")
        sys.exit(1)
