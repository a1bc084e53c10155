"""Exceptions of the BroadWorks side, shared by the link, the channel set and the services."""


class BroadWorksError(Exception):
    """Base: a BroadWorks request did not succeed."""


class BroadWorksRequestError(BroadWorksError):
    """BroadWorks answered a request with an error status (and maybe an ErrorInfo)."""

    def __init__(self, request_name, status_code, reason, error_code=None, summary=None):
        self.request_name = request_name
        self.status_code = status_code
        self.reason = reason
        self.error_code = error_code
        self.summary = summary
        super().__init__(
            "%s failed: %s %s%s"
            % (
                request_name,
                status_code,
                reason,
                " (%s: %s)" % (error_code, summary) if error_code is not None else "",
            )
        )

    @classmethod
    def from_error_info(cls, request_name, status_code, reason, info: dict):
        """The error of an answer whose Xsi ``ErrorInfo`` children are ``info``
        (local name -> text; empty when the answer carried none)."""
        error_code = info.get("errorCode")
        return cls(
            request_name,
            status_code,
            reason,
            int(error_code) if error_code and error_code.isdigit() else None,
            info.get("summaryEnglish") or info.get("summary"),
        )


class BroadWorksTimeout(BroadWorksError):
    """No response within the request timeout."""

    def __init__(self, request_name, seconds):
        self.request_name = request_name
        self.seconds = seconds
        super().__init__("%s: no response within %g s" % (request_name, seconds))


class LinkLost(BroadWorksError):
    """The link went down before the response came."""

    def __init__(self, request_name="request", detail="link lost"):
        self.request_name = request_name
        super().__init__("%s: %s" % (request_name, detail))


class NoLinkAvailable(BroadWorksError):
    """No link of the channel set is up."""

    def __init__(self, request_name="request"):
        self.request_name = request_name
        super().__init__("%s: no BroadWorks link is available" % request_name)
