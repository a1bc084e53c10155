"""TLS for the CSTA listener and the links to the XSPs (``tls = true``).

Certificates are read once at start-up; a file that cannot be used stops the
start with one line naming the option (see :func:`problems`).
"""

from __future__ import annotations


def _read(path: str) -> str:
    with open(path, encoding="ascii") as f:
        return f.read()


def server_options(certificate_path: str, key_path: str):
    """Context options serving ``certificate_path`` with ``key_path`` (PEM)."""
    from twisted.internet import ssl

    return ssl.PrivateCertificate.loadPEM(_read(certificate_path) + _read(key_path)).options()


def client_options(host: str, ca_path: str | None = None):
    """Client TLS options verifying the server as ``host``: against the CA
    certificate in ``ca_path``, or the system's trust store. A CA file that
    cannot be read or parsed raises (OSError, or OpenSSL's error)."""
    from twisted.internet import ssl

    trust = ssl.Certificate.loadPEM(_read(ca_path)) if ca_path else None
    return ssl.optionsForClientTLS(host, trustRoot=trust)


def client_endpoint(reactor, host: str, port: int, ca_path: str | None = None, timeout: float = 30):
    """A TLS client endpoint to ``host`` verifying it (see :func:`client_options`)."""
    from twisted.internet.endpoints import HostnameEndpoint, wrapClientTLS

    return wrapClientTLS(client_options(host, ca_path), HostnameEndpoint(reactor, host, port, timeout=timeout))


def problems(config) -> list[str]:
    """One line per TLS file of ``config`` that cannot be used."""
    out = []
    csta = config.csta
    if csta.tls:
        try:
            server_options(csta.tls_certificate, csta.tls_key)
        except Exception as e:  # OSError, or an OpenSSL error for a bad PEM
            out.append(
                "%s: [csta] tls-certificate / tls-key: cannot be used: %s"
                % (config.source, why(e))
            )
    for link in config.links:
        secure = link.tls or (link.url or "").startswith("https://")  # an xsi link's scheme
        if secure and link.tls_ca:
            try:
                from twisted.internet import ssl

                ssl.Certificate.loadPEM(_read(link.tls_ca))
            except Exception as e:
                out.append(
                    "%s: [link-%s] tls-ca = %r: cannot be used: %s"
                    % (config.source, link.name, link.tls_ca, why(e))
                )
    return out


def why(error) -> str:
    return getattr(error, "strerror", None) or str(error) or type(error).__name__
