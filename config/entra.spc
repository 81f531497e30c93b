connection "entra" {
  plugin = "local/entra"

  # The tenant (directory) whose sign-in logs to read. Falls back to AZURE_TENANT_ID.
  # tenant_id = "00000000-0000-0000-0000-000000000000"

  # An app registration with the application permissions AuditLog.Read.All and
  # Directory.Read.All (admin consent granted). Falls back to AZURE_CLIENT_ID.
  # client_id = "00000000-0000-0000-0000-000000000000"

  # Sign in with a client secret (falls back to AZURE_CLIENT_SECRET) ...
  # client_secret = "~~~"

  # ... or with a certificate: a PEM or PKCS#12 file holding the certificate and
  # its private key (falls back to AZURE_CLIENT_CERTIFICATE_PATH and
  # AZURE_CLIENT_CERTIFICATE_PASSWORD).
  # certificate_path     = "~/certs/entra-reader.pfx"
  # certificate_password = "~~~"

  # With neither a secret nor a certificate, the plugin signs in with workload
  # identity, a managed identity, or the Azure CLI (az login), in that order.

  # The national cloud: public (default), usgov, usgovdod or china.
  # environment = "public"

  # Advanced: sign-in authority and Graph endpoint, for private endpoints or
  # proxies that present their own hosts. Both must be https:// URLs.
  # authority_host = "https://login.microsoftonline.com"
  # graph_endpoint = "https://graph.microsoft.com"

  # How long one page of sign-ins may take, in seconds (default 300).
  # request_timeout = 300

  # Graph serves sign-in logs at 5 requests per 10 seconds per app per tenant.
  # The plugin paces itself to that budget. For every connection, change it with
  # a limiter "entra_sign_in_requests" block (bucket_size requests in any
  # bucket_size / fill_rate seconds) in a plugin "local/entra" block; for this
  # connection only, with:
  # requests_per_window = 5
  # request_window      = 10
}
