"""The C2PA validation status codes provcheck acts on, and words a person understands."""

from __future__ import annotations

__all__ = ["TAMPER_CODES", "UNTRUSTED_CODES", "PROFILE_CODE", "describe_code"]

# The asset's bytes no longer match the manifest's hard binding.
TAMPER_CODES = frozenset(
    {
        "assertion.dataHash.mismatch",
        "assertion.bmffHash.mismatch",
        "assertion.boxesHash.mismatch",
        "assertion.collectionHash.mismatch",
    }
)
# A claim signer's certificate that breaks the C2PA certificate profile (provcheck's own
# check, beside the library's): the same code the C2PA library uses for it.
PROFILE_CODE = "signingCredential.invalid"
# The manifest is intact but nobody we trust vouches for its signer / its timestamp.
UNTRUSTED_CODES = frozenset(
    {
        "signingCredential.untrusted",
        "timeStamp.untrusted",
        "signingCredential.ocsp.skipped",
        "signingCredential.ocsp.inaccessible",
    }
)

_MESSAGES = {
    "assertion.dataHash.mismatch": "the file's bytes were changed after it was signed",
    "assertion.bmffHash.mismatch": "the video/audio data was changed after it was signed "
    "(or a fragmented MP4 is missing its fragments)",
    "assertion.boxesHash.mismatch": "the file's boxes were changed after it was signed",
    "assertion.collectionHash.mismatch": "a file of the signed collection was changed",
    "assertion.hashedURI.mismatch": "a part of the manifest does not match the hash the "
    "signed claim recorded for it",
    "assertion.missing": "an assertion the claim refers to is missing",
    "assertion.cbor.invalid": "an assertion's data is malformed",
    "assertion.json.invalid": "an assertion's data is malformed",
    "assertion.action.ingredientMismatch": "an action refers to an ingredient that does not match",
    "claim.missing": "the manifest has no claim",
    "claim.malformed": "the claim is malformed",
    "claim.multiple": "the manifest has more than one claim",
    "claim.hardBindings.missing": "the claim does not bind to the file's content",
    "claimSignature.mismatch": "the claim's signature does not match its content "
    "(the manifest was altered or forged)",
    "claimSignature.missing": "the claim is not signed",
    "claimSignature.outsideValidity": "the claim was signed outside the certificate's validity",
    "signingCredential.untrusted": "the signing certificate does not chain to a configured "
    "trust anchor",
    "signingCredential.invalid": "the signing certificate is not acceptable for C2PA "
    "(profile, key usage or EKU)",
    "signingCredential.expired": "the signing certificate had expired when it was checked "
    "and no trusted timestamp proves it signed while valid",
    "signingCredential.revoked": "the signing certificate has been revoked",
    "algorithm.unsupported": "the signature uses an unsupported algorithm",
    "timeStamp.mismatch": "the timestamp does not match the signature",
    "timeStamp.untrusted": "the timestamp authority is not on a configured TSA trust list",
    "timeStamp.outsideValidity": "the timestamp lies outside the certificate's validity",
    "ingredient.manifest.missing": "an ingredient's manifest is missing from the store",
    "ingredient.manifest.mismatch": "an ingredient's manifest does not match the hash "
    "recorded for it",
    "ingredient.claimSignature.mismatch": "an ingredient's claim signature does not match",
    "ingredient.hashedURI.mismatch": "an ingredient's reference does not match its hash",
    "manifest.inaccessible": "the manifest could not be fetched",
    "manifest.multipleParents": "the manifest lists more than one parent ingredient",
    "manifest.timestamp.invalid": "the manifest's timestamp is invalid",
    "general.error": "the validator hit an error while checking the manifest",
}


def describe_code(code: str) -> str:
    """Words a person understands for a C2PA validation status code."""
    return _MESSAGES.get(code, f"validation failure {code}")
