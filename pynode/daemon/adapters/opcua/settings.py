"""``[production] adapter = "opcua"``: where the machine is, how to log in, how long to wait."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from pynode.daemon.adapters.opcua.model import DEFAULT_MACHINE, DEFAULT_NAMESPACE

ENDPOINT_PATTERN = r"^opc\.tcp://[A-Za-z0-9.\-\[\]:]+:[0-9]{1,5}(/[^\s]*)?$"


class OpcuaSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    adapter: Literal["opcua"] = "opcua"
    endpoint: str = Field(pattern=ENDPOINT_PATTERN, description="opc.tcp://host:port[/path] of the machine")
    namespace_uri: str = Field(default=DEFAULT_NAMESPACE, min_length=1, description="the machine model's namespace")
    machine: str = Field(default=DEFAULT_MACHINE, min_length=1, max_length=200,
                         description="browse name of the machine object under Objects")
    username: str | None = Field(default=None, min_length=1, max_length=200)
    password_file: Path | None = Field(default=None, description="the user's password, read from this file")
    security_policy: Literal["None", "Basic256Sha256"] = "None"
    security_mode: Literal["Sign", "SignAndEncrypt"] = "SignAndEncrypt"
    certificate_file: Path | None = Field(default=None, description="this node's application certificate (PEM/DER)")
    private_key_file: Path | None = Field(default=None, description="its private key (PEM)")
    server_certificate_file: Path | None = Field(default=None, description="pin the machine's certificate")
    request_timeout_s: float = Field(default=10.0, gt=0, le=600, description="one request's answer")
    reconnect_timeout_s: float = Field(default=600.0, gt=0, le=7 * 86400,
                                       description="machine unreachable this long: stop the node (fatal)")
    job_timeout_s: float | None = Field(default=None, gt=0, description="fail a job not ended by then")
    subscribe: bool = Field(default=True, description="follow the job by subscription; False: read on each poll")
    publishing_interval_ms: float = Field(default=200.0, ge=10, le=60_000)

    @model_validator(mode="after")
    def _pairs(self) -> Self:
        if (self.username is None) != (self.password_file is None):
            raise ValueError("username and password_file go together")
        if self.security_policy == "Basic256Sha256" and (self.certificate_file is None
                                                        or self.private_key_file is None):
            raise ValueError("security_policy Basic256Sha256 needs certificate_file and private_key_file")
        if self.security_policy == "None" and (self.certificate_file or self.private_key_file
                                               or self.server_certificate_file):
            raise ValueError("certificate files need security_policy Basic256Sha256")
        return self
