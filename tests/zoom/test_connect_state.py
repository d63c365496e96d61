"""The signed state of "Connect Zoom account" and the PKCE verifier derived from it (no storage, no Airflow)."""
from __future__ import annotations

import pytest

from zoom_sam.zoom.connect_state import EXPIRED, FORGED, STATE_TTL_S, StateRefused, StateSigner, code_challenge

NOW = 1_800_000_000.0


def _issue(signer: StateSigner, **kw):
    fields = {"conn_id": "zoom_acme", "alias": "acme", "user": "airflow:admin",
              "redirect_uri": "https://airflow.example.com/zoom-sam/connect/callback", "now": NOW, **kw}
    return signer.issue(**fields)


def test_a_state_reads_back_what_it_was_issued_for_until_it_expires():
    signer = StateSigner("server-secret")
    state, text = _issue(signer)
    assert signer.read(text, now=NOW + STATE_TTL_S - 1) == state
    assert (state.conn_id, state.alias, state.user) == ("zoom_acme", "acme", "airflow:admin")
    with pytest.raises(StateRefused) as refused:
        signer.read(text, now=NOW + STATE_TTL_S)
    assert refused.value.reason == EXPIRED


def test_a_state_of_another_key_or_altered_is_forged():
    state, text = _issue(StateSigner("server-secret"))
    body, mac = text.split(".")
    other = StateSigner("another-secret")
    altered_body = body[:-3] + ("A" if body[-3] != "A" else "B") + body[-2:]
    for candidate, signer in ((text, other), (f"{altered_body}.{mac}", StateSigner("server-secret")),
                              ("", other), ("..", other), ("not base64!.x", other)):
        with pytest.raises(StateRefused) as refused:
            signer.read(candidate, now=NOW)
        assert refused.value.reason == FORGED


def test_each_state_has_its_own_nonce_and_pkce_verifier():
    signer = StateSigner("server-secret")
    (first, _), (second, _) = _issue(signer), _issue(signer)
    assert first.nonce != second.nonce
    verifier = signer.code_verifier(first)
    assert len(verifier) == 43 and verifier == signer.code_verifier(first) != signer.code_verifier(second)
    assert StateSigner("another-secret").code_verifier(first) != verifier
    assert code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_the_key_is_never_shown():
    assert "server-secret" not in repr(StateSigner("server-secret"))
