"""Institution: registration, signing keys, status."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest

from domain.errors import InvalidInput, KeyNotValid, UnknownIssuer
from domain.institution import Institution, SigningKey, algorithm_for
from domain.values import InstitutionKind
from tests.unit.support import NOW, names, refused, replay

ED25519 = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
# A real 2048-bit public key (generated once): the domain checks sizes, not just shapes.
RSA = {
    "kty": "RSA",
    "n": (
        "sHY7o01YC0f0WDpsi3bfQyqY-hI2I0grThx0BQgP-J1jPvAZ9sqCQfTOygahKG6pK7SMs_QKhIXk_nPw"
        "aDChh6FhtGebTlb0cdql1nwVPrKGy6P5ZQmZpeNbTnJ_AaHve3gvom0aG--QgwQvtmBrfgoJBFeONLuB"
        "eSlWy1C8Zxb1ltZEXhtztMVRMaA83sUfsDvbHu6YUjiS2h7Quya6z-y0wVPzdsjFsktcX34Rw0G5OoEi"
        "nG2VQu2RbTAllZ71mp1yoolrK7fNq4vSCQ0w9WKe3-iWAVAbptXfNg9d7JwHcMjDH8REvRjDzip44HXa"
        "MQGs8CqUZxA6D_PGoieYew"
    ),
    "e": "AQAB",
}


def jwk(kid: str = "key-1", base: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {**(base or ED25519), "kid": kid, **extra}


def university(**kwargs: Any) -> Institution:
    args: dict[str, Any] = {
        "id": uuid4(),
        "name": "Fudan University",
        "kind": InstitutionKind.UNIVERSITY,
        "issuer_uri": None,
        "at": NOW,
    }
    args.update(kwargs)
    institution = Institution.register(**args)
    institution.collect_events()
    return institution


# -- registration ---------------------------------------------------------------------------------
def test_register_defaults_issuer_uri_to_urn_uuid() -> None:
    iid = uuid4()
    institution = Institution.register(
        id=iid,
        name="  Open University of Shanghai ",
        kind=InstitutionKind.OPEN_UNIVERSITY,
        issuer_uri=None,
        at=NOW,
    )
    assert institution.id == iid
    assert institution.issuer_uri == f"urn:uuid:{iid}"
    assert institution.name == "Open University of Shanghai"
    assert institution.kind is InstitutionKind.OPEN_UNIVERSITY
    assert institution.active
    assert institution.keys == {}
    events = institution.collect_events()
    assert names(events) == ["Registered"]
    assert events[0].registered_at == NOW


@pytest.mark.parametrize(
    "uri", ["https://www.fudan.edu.cn/issuer", "did:web:fudan.edu.cn", "urn:example:issuer-1"]
)
def test_register_with_an_explicit_issuer_uri(uri: str) -> None:
    assert university(issuer_uri=uri).issuer_uri == uri


@pytest.mark.parametrize(
    "uri",
    ["fudan.edu.cn", "not a uri", "https://fudan.edu.cn/a b", ":no-scheme", "1http://x", "did:"],
)
def test_register_refuses_a_relative_or_malformed_issuer_uri(uri: str) -> None:
    with pytest.raises(InvalidInput) as info:
        Institution.register(
            id=uuid4(), name="X", kind=InstitutionKind.UNIVERSITY, issuer_uri=uri, at=NOW
        )
    assert info.value.code == "INVALID_INPUT"
    assert info.value.field == ("issuerUri",)


@pytest.mark.parametrize("name", ["", "   ", "x" * 201, "a\nb"])
def test_register_refuses_a_bad_name(name: str) -> None:
    with pytest.raises(InvalidInput) as info:
        Institution.register(
            id=uuid4(), name=name, kind=InstitutionKind.ENTERPRISE, issuer_uri=None, at=NOW
        )
    assert info.value.field == ("name",)


def test_register_refuses_a_naive_timestamp() -> None:
    with pytest.raises(InvalidInput):
        Institution.register(
            id=uuid4(),
            name="X",
            kind=InstitutionKind.ENTERPRISE,
            issuer_uri=None,
            at=NOW.replace(tzinfo=None),
        )


# -- keys -----------------------------------------------------------------------------------------
def test_algorithm_comes_from_the_key_shape() -> None:
    assert algorithm_for(jwk(base=ED25519)) == "EdDSA"
    assert algorithm_for(jwk(base=RSA)) == "RS256"
    # An "alg" member in the JWK does not choose the algorithm.
    assert algorithm_for(jwk(base=RSA, alg="HS256")) == "RS256"


def test_add_ed25519_key() -> None:
    institution = university()
    key = institution.add_key(jwk("ed-1"), NOW, NOW + timedelta(days=365))
    assert key == SigningKey(
        kid="ed-1",
        algorithm="EdDSA",
        public_jwk=jwk("ed-1"),
        valid_from=NOW,
        valid_until=NOW + timedelta(days=365),
        retired_at=None,
    )
    assert institution.keys == {"ed-1": key}
    events = institution.collect_events()
    assert names(events) == ["KeyAdded"]
    assert events[0].kid == "ed-1"
    assert events[0].algorithm == "EdDSA"


def test_add_rsa_key_without_end() -> None:
    institution = university()
    key = institution.add_key(jwk("rsa-1", RSA), NOW)
    assert key.algorithm == "RS256"
    assert key.valid_until is None


def test_add_key_copies_the_jwk() -> None:
    institution = university()
    given = jwk("ed-1")
    institution.add_key(given, NOW)
    given["x"] = "changed"
    assert institution.keys["ed-1"].public_jwk["x"] == ED25519["x"]


@pytest.mark.parametrize("member", ["d", "p", "q", "dp", "dq", "qi", "oth", "k"])
def test_add_key_refuses_private_key_material(member: str) -> None:
    institution = university()
    with refused(institution, InvalidInput, "INVALID_INPUT") as info:
        institution.add_key(jwk(base=RSA, **{member: "secret"}), NOW)
    assert "private key material" in info.value.message
    assert info.value.field == ("publicKeyJwk",)


@pytest.mark.parametrize(
    "bad",
    [
        {**ED25519},  # no kid
        jwk(kid=""),
        jwk(kid="   "),
        jwk(kid="k" * 201),
        {**ED25519, "kid": 7},
    ],
)
def test_add_key_needs_a_kid(bad: dict[str, Any]) -> None:
    institution = university()
    with refused(institution, InvalidInput, "INVALID_INPUT") as info:
        institution.add_key(bad, NOW)
    assert info.value.field == ("publicKeyJwk", "kid")


@pytest.mark.parametrize(
    "bad",
    [
        jwk(base={"kty": "OKP", "crv": "X25519", "x": "abc"}),
        jwk(base={"kty": "OKP", "crv": "Ed25519"}),
        jwk(base={"kty": "EC", "crv": "P-256", "x": "a", "y": "b"}),
        jwk(base={"kty": "RSA", "n": "abc"}),
        jwk(base={"kty": "RSA", "n": 1, "e": "AQAB"}),
        jwk(base={"kty": "oct"}),
    ],
)
def test_add_key_refuses_unsupported_shapes(bad: dict[str, Any]) -> None:
    institution = university()
    with refused(institution, InvalidInput, "INVALID_INPUT") as info:
        institution.add_key(bad, NOW)
    assert "OKP Ed25519" in info.value.message


@pytest.mark.parametrize(
    ("bad", "member", "says"),
    [
        (jwk(base={**ED25519, "x": ED25519["x"][:-4]}), "x", "32 bytes"),
        (jwk(base={**ED25519, "x": ED25519["x"] + "AAAA"}), "x", "32 bytes"),
        (jwk(base={**ED25519, "x": "not base64url!"}), "x", "base64url"),
        (jwk(base={**ED25519, "x": ED25519["x"] + "="}), "x", "base64url"),
        (jwk(base={**RSA, "n": "AQAB"}), "n", "2048 bits"),
        (jwk(base={**RSA, "n": RSA["n"][:171]}), "n", "2048 bits"),  # ~1024 bits
        (jwk(base={**RSA, "e": "AQ"}), "e", "exponent"),  # e = 1
        (jwk(base={**RSA, "e": "AQAA"}), "e", "exponent"),  # even
    ],
)
def test_add_key_refuses_keys_that_cannot_verify(
    bad: dict[str, Any], member: str, says: str
) -> None:
    """A registered key must be usable: an Ed25519 x is 32 bytes, an RSA modulus at least 2048
    bits with an odd exponent. Before, such keys were stored and every later deposit failed with
    a library message."""
    institution = university()
    with refused(institution, InvalidInput, "INVALID_INPUT") as info:
        institution.add_key(bad, NOW)
    assert info.value.field == ("publicKeyJwk", member)
    assert says in info.value.message


@pytest.mark.parametrize("bad", ["kty=OKP", ["kty", "OKP"], None])
def test_add_key_refuses_non_objects(bad: object) -> None:
    institution = university()
    with refused(institution, InvalidInput, "INVALID_INPUT"):
        institution.add_key(bad, NOW)


def test_add_key_refuses_a_duplicate_kid() -> None:
    institution = university()
    institution.add_key(jwk("k1"), NOW)
    institution.collect_events()
    with refused(institution, InvalidInput, "INVALID_INPUT") as info:
        institution.add_key(jwk(" k1 ", RSA), NOW)  # same kid once trimmed, other key type
    assert "already registered" in info.value.message


@pytest.mark.parametrize("until", [NOW, NOW - timedelta(seconds=1)])
def test_add_key_refuses_an_empty_validity(until: Any) -> None:
    institution = university()
    with refused(institution, InvalidInput, "INVALID_INPUT") as info:
        institution.add_key(jwk(), NOW, until)
    assert info.value.field == ("validUntil",)


def test_add_key_refuses_naive_times() -> None:
    institution = university()
    with refused(institution, InvalidInput, "INVALID_INPUT"):
        institution.add_key(jwk(), NOW.replace(tzinfo=None))


def test_key_for_checks_the_validity_window_inclusively() -> None:
    institution = university()
    start, end = NOW, NOW + timedelta(days=30)
    institution.add_key(jwk("k1"), start, end)
    assert institution.key_for("k1", start).kid == "k1"
    assert institution.key_for("k1", end).kid == "k1"
    for outside in (start - timedelta(seconds=1), end + timedelta(seconds=1)):
        with pytest.raises(KeyNotValid) as info:
            institution.key_for("k1", outside)
        assert info.value.code == "KEY_NOT_VALID"


def test_key_for_unknown_kid() -> None:
    institution = university()
    institution.add_key(jwk("k1"), NOW)
    with pytest.raises(KeyNotValid) as info:
        institution.key_for("k2", NOW)
    assert info.value.code == "KEY_NOT_VALID"


def test_retired_key_verifies_only_what_was_issued_before_retirement() -> None:
    institution = university()
    institution.add_key(jwk("k1"), NOW)
    retired_at = NOW + timedelta(days=10)
    institution.retire_key("k1", retired_at)
    assert names(institution.collect_events()) == ["KeyAdded", "KeyRetired"]
    assert institution.keys["k1"].retired_at == retired_at
    assert institution.key_for("k1", retired_at - timedelta(seconds=1)).kid == "k1"
    for moment in (retired_at, retired_at + timedelta(days=1)):
        with pytest.raises(KeyNotValid):
            institution.key_for("k1", moment)


def test_retire_key_errors() -> None:
    institution = university()
    with refused(institution, KeyNotValid, "KEY_NOT_VALID"):
        institution.retire_key("nope", NOW)
    institution.add_key(jwk("k1"), NOW)
    institution.retire_key("k1", NOW)
    institution.collect_events()
    with refused(institution, KeyNotValid, "KEY_NOT_VALID") as info:
        institution.retire_key("k1", NOW)
    assert "already retired" in info.value.message


def test_suspended_institution_cannot_deposit() -> None:
    institution = university()
    institution.add_key(jwk("k1"), NOW)
    institution.suspend("  audit of forged certificates ")
    events = institution.collect_events()
    assert names(events) == ["KeyAdded", "Suspended"]
    assert events[1].reason == "audit of forged certificates"
    assert not institution.active
    with pytest.raises(UnknownIssuer) as info:
        institution.key_for("k1", NOW)
    assert info.value.code == "UNKNOWN_ISSUER"
    # Suspension wins over a missing key: nothing is said about the keys of a suspended issuer.
    with pytest.raises(UnknownIssuer):
        institution.key_for("nope", NOW)
    institution.reactivate()
    assert institution.active
    assert names(institution.collect_events()) == ["Reactivated"]
    assert institution.key_for("k1", NOW).kid == "k1"


def test_suspend_twice_and_reactivate_twice_are_refused() -> None:
    institution = university()
    with refused(institution, InvalidInput, "INVALID_INPUT"):
        institution.reactivate()
    with refused(institution, InvalidInput, "INVALID_INPUT"):
        institution.suspend("")  # a reason is required
    institution.suspend("audit")
    institution.collect_events()
    with refused(institution, InvalidInput, "INVALID_INPUT") as info:
        institution.suspend("again")
    assert "already suspended" in info.value.message


def test_rename() -> None:
    institution = university()
    institution.rename(" 复旦大学 ")
    assert institution.name == "复旦大学"
    with refused(institution, InvalidInput, "INVALID_INPUT"):
        institution.rename("")


def test_replay_rebuilds_the_institution() -> None:
    institution = Institution.register(
        id=uuid4(),
        name="Tencent Academy",
        kind=InstitutionKind.ENTERPRISE,
        issuer_uri=None,
        at=NOW,
    )
    institution.add_key(jwk("k1"), NOW)
    institution.add_key(jwk("k2", RSA), NOW, NOW + timedelta(days=1))
    institution.retire_key("k1", NOW + timedelta(hours=1))
    institution.suspend("review")
    institution.reactivate()
    institution.rename("Tencent Learning")
    rebuilt = replay(institution.collect_events())
    assert rebuilt.id == institution.id
    assert rebuilt.version == institution.version == 7
    assert (rebuilt.name, rebuilt.kind, rebuilt.issuer_uri, rebuilt.active) == (
        "Tencent Learning",
        InstitutionKind.ENTERPRISE,
        institution.issuer_uri,
        True,
    )
    assert rebuilt.keys == institution.keys
