"""Signed approvals: OpenSSH signatures (`ssh-keygen -Y sign`) checked against an allowed_signers file."""

from __future__ import annotations

import base64
import binascii
import itertools
import re
import tempfile
from pathlib import Path

from guardrail.adapters.process import CommandTimeoutError, run_command
from guardrail.core.approvals import SIGNATURE_NAMESPACE, InvalidSignatureError
from guardrail.core.errors import BadInputError, CommandError

_VERIFY_SECONDS = 30.0


class SshSignatureVerifier:
    """Verifies with `ssh-keygen -Y verify`, so key types and certificates are whatever OpenSSH supports.

    The allowed_signers file (see ssh-keygen(1)) maps identities, here the approvers' actor names, to
    their public keys; a signature counts only when made in `namespace` by a key listed for the identity.
    """

    def __init__(self, allowed_signers: Path, namespace: str = SIGNATURE_NAMESPACE, ssh_keygen: str = "ssh-keygen"):
        self.allowed_signers = allowed_signers
        self.namespace = namespace
        self.ssh_keygen = ssh_keygen

    def verify(self, identity: str, message: bytes, signature: str) -> None:
        """Returns when `signature` (an armored SSH SIGNATURE) is valid for `identity` over `message`.

        Raises InvalidSignatureError (exit 1) when it is not, BadInputError when the allowed_signers
        file or ssh-keygen is missing.
        """
        if not self.allowed_signers.is_file():
            raise BadInputError(f"{self.allowed_signers}: allowed_signers file not found (approvals.allowed_signers)")
        if "-----BEGIN SSH SIGNATURE-----" not in signature:
            raise InvalidSignatureError(f"signature of {identity}: not an SSH signature (ssh-keygen -Y sign output)")
        with tempfile.TemporaryDirectory(prefix="guardrail-sig-") as folder:
            signature_file = Path(folder) / "approval.sig"
            signature_file.write_text(signature.strip() + "\n", encoding="ascii", errors="replace")
            argv = [
                self.ssh_keygen,
                "-Y",
                "verify",
                "-f",
                str(self.allowed_signers),
                "-I",
                identity,
                "-n",
                self.namespace,
                "-s",
                str(signature_file),
            ]
            try:
                run_command(
                    argv,
                    input=message,
                    timeout=_VERIFY_SECONDS,
                    missing_hint="install OpenSSH's client tools (openssh-client) to verify signed approvals",
                )
            except CommandTimeoutError:
                raise  # retryable, and not a verdict on the signature
            except CommandError as error:
                why = _last_line(error.stderr) or _last_line(error.stdout) or f"ssh-keygen exited {error.returncode}"
                raise InvalidSignatureError(f"signature of {identity} does not verify: {why}") from None

    def identities_of_signer(self, signature: str) -> frozenset[str]:
        """The principals of every allowed_signers line that lists the key the signature was made with
        (a certificate's CA lines are not matched: only plain keys). Empty when it cannot be read."""
        key = _signing_key(signature)
        if key is None:
            return frozenset()
        try:
            lines = self.allowed_signers.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return frozenset()
        found: set[str] = set()
        for line in lines:
            tokens = _TOKENS.findall(line.strip())
            if not tokens or tokens[0].startswith("#"):
                continue
            if any(_key_blob(kind, blob) == key for kind, blob in itertools.pairwise(tokens[1:])):
                found.update(p.strip('"') for p in tokens[0].split(","))
        return frozenset(found)


# allowed_signers fields are separated by spaces, except inside quoted option values.
_TOKENS = re.compile(r'(?:[^\s"]|"[^"]*")+')


def _signing_key(signature: str) -> bytes | None:
    """The public key blob inside an armored SSH signature (PROTOCOL.sshsig: magic, version, key, ...)."""
    body = "".join(line for line in signature.strip().splitlines() if "SSH SIGNATURE" not in line)
    try:
        raw = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        return None
    if not raw.startswith(b"SSHSIG") or len(raw) < 14:
        return None
    length = int.from_bytes(raw[10:14], "big")
    key = raw[14 : 14 + length]
    return key if len(key) == length else None


def _key_blob(kind: str, text: str) -> bytes | None:
    """The key blob of an allowed_signers `TYPE BASE64` pair, when `text` is one of type `kind`."""
    try:
        blob = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    name = kind.encode()
    return blob if blob[4 : 4 + len(name)] == name and int.from_bytes(blob[:4], "big") == len(name) else None


def _last_line(text: str) -> str:
    return next((line.strip() for line in reversed(text.splitlines()) if line.strip()), "")
