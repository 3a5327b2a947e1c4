"""Accounts over HTTP: the admin's user management, own password and profile, people paging."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.factories import DEFAULT_PASSWORD, LoggedIn, create_user, login

NEW_PASSWORD = "a-brand-new-password-42"


def assert_error(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    assert set(body) == {"code", "message", "data"}, body
    assert body["code"] == code, body
    return body


async def _me(client: httpx.AsyncClient, who: LoggedIn) -> httpx.Response:
    return await client.get("/api/me", headers=who.headers)


async def _refresh(client: httpx.AsyncClient, who: LoggedIn) -> httpx.Response:
    return await client.post("/api/auth/refresh", json={"refresh_token": who.refresh_token})


# --- creating users ------------------------------------------------------------------------------


async def test_admin_creates_a_user_who_can_log_in(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    r = await client.post(
        "/api/admin/users",
        json={"username": "Lee.Jiwoo", "password": DEFAULT_PASSWORD, "display_name": "이지우"},
        headers=admin.headers,
    )
    assert r.status_code == 201, r.text
    created = r.json()
    assert (created["username"], created["display_name"]) == ("lee.jiwoo", "이지우")
    assert (created["is_admin"], created["active"]) == (False, True)
    me = await _me(client, await login(client, "lee.jiwoo"))
    assert me.json()["profile"]["display_name"] == "이지우"


async def test_non_admin_cannot_create_users(client: httpx.AsyncClient, admin: LoggedIn) -> None:
    user = await create_user(client, admin)
    r = await client.post(
        "/api/admin/users",
        json={"username": "sneaky", "password": DEFAULT_PASSWORD},
        headers=user.headers,
    )
    assert_error(r, 403, "admin_required")
    listed = await client.get("/api/admin/users", headers=admin.headers)
    assert "sneaky" not in {u["username"] for u in listed.json()}


@pytest.mark.parametrize(
    "path",
    [
        "/api/admin/users/admin/deactivate",
        "/api/admin/users/admin/reactivate",
    ],
)
async def test_non_admin_cannot_use_admin_actions(
    client: httpx.AsyncClient, admin: LoggedIn, path: str
) -> None:
    user = await create_user(client, admin)
    assert_error(await client.post(path, headers=user.headers), 403, "admin_required")
    assert_error(await client.get("/api/admin/users", headers=user.headers), 403, "admin_required")


async def test_user_names_are_unique_regardless_of_case(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    await create_user(client, admin, username="park")
    r = await client.post(
        "/api/admin/users",
        json={"username": "PARK", "password": DEFAULT_PASSWORD},
        headers=admin.headers,
    )
    assert_error(r, 409, "username_taken")


@pytest.mark.parametrize(
    ("username", "password", "code"),
    [
        ("a", DEFAULT_PASSWORD, "username_invalid"),
        ("김민수", DEFAULT_PASSWORD, "username_invalid"),
        ("has space", DEFAULT_PASSWORD, "username_invalid"),
        ("-leading", DEFAULT_PASSWORD, "username_invalid"),
        ("kim", "short", "password_too_short"),
    ],
)
async def test_invalid_new_users_are_refused(
    client: httpx.AsyncClient, admin: LoggedIn, username: str, password: str, code: str
) -> None:
    r = await client.post(
        "/api/admin/users",
        json={"username": username, "password": password},
        headers=admin.headers,
    )
    assert_error(r, 400, code)


# --- deactivation and password resets ------------------------------------------------------------


async def test_deactivated_users_tokens_stop_working_at_once(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    user = await create_user(client, admin)
    second_device = await login(client, user.username)
    assert (await _me(client, user)).status_code == 200

    r = await client.post(f"/api/admin/users/{user.username}/deactivate", headers=admin.headers)
    assert r.status_code == 200, r.text
    assert r.json()["active"] is False

    for session in (user, second_device):
        assert (await _me(client, session)).status_code == 401
        assert_error(await _refresh(client, session), 401, "refresh_invalid")


async def test_deactivated_users_leave_the_people_list_but_not_the_admin_list(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    user = await create_user(client, admin)
    await client.post(f"/api/admin/users/{user.username}/deactivate", headers=admin.headers)
    people = await client.get("/api/users", headers=admin.headers)
    everyone = await client.get("/api/admin/users", headers=admin.headers)
    assert user.username not in {u["username"] for u in people.json()}
    assert {u["username"]: u["active"] for u in everyone.json()}[user.username] is False


async def test_reactivated_user_can_log_in_again(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    user = await create_user(client, admin)
    await client.post(f"/api/admin/users/{user.username}/deactivate", headers=admin.headers)
    r = await client.post(f"/api/admin/users/{user.username}/reactivate", headers=admin.headers)
    assert r.status_code == 200, r.text
    assert r.json()["active"] is True
    assert (await _me(client, await login(client, user.username))).status_code == 200


async def test_admin_cannot_deactivate_themselves(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    r = await client.post("/api/admin/users/admin/deactivate", headers=admin.headers)
    assert_error(r, 400, "cannot_deactivate_self")
    assert (await _me(client, admin)).status_code == 200


async def test_deactivating_an_unknown_user_is_404(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    r = await client.post("/api/admin/users/nobody/deactivate", headers=admin.headers)
    assert_error(r, 404, "user_not_found")


async def test_admin_password_reset_ends_the_users_sessions(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    user = await create_user(client, admin)
    r = await client.post(
        f"/api/admin/users/{user.username}/password",
        json={"password": NEW_PASSWORD},
        headers=admin.headers,
    )
    assert r.status_code == 204, r.text
    assert_error(await _me(client, user), 401, "session_ended")
    assert_error(await _refresh(client, user), 401, "refresh_invalid")

    old = await client.post(
        "/api/auth/login", json={"username": user.username, "password": DEFAULT_PASSWORD}
    )
    assert_error(old, 401, "invalid_credentials")
    assert (await _me(client, await login(client, user.username, NEW_PASSWORD))).status_code == 200


# --- own password and profile --------------------------------------------------------------------


async def test_changing_my_password_keeps_this_session_and_ends_the_others(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    user = await create_user(client, admin)
    other = await login(client, user.username, device_name="휴대폰")

    r = await client.post(
        "/api/me/password",
        json={"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
        headers=user.headers,
    )
    assert r.status_code == 204, r.text
    assert (await _me(client, user)).status_code == 200
    assert (await _refresh(client, user)).status_code == 200
    assert_error(await _me(client, other), 401, "session_ended")
    assert_error(await _refresh(client, other), 401, "refresh_invalid")
    assert (await _me(client, await login(client, user.username, NEW_PASSWORD))).status_code == 200


async def test_changing_my_password_needs_the_current_one(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    user = await create_user(client, admin)
    other = await login(client, user.username)
    r = await client.post(
        "/api/me/password",
        json={"current_password": "not-my-password", "new_password": NEW_PASSWORD},
        headers=user.headers,
    )
    # 403, not 401: the session is fine; a client must not read this as "log in again".
    assert_error(r, 403, "current_password_wrong")
    assert (await _me(client, other)).status_code == 200
    await login(client, user.username, DEFAULT_PASSWORD)


async def test_new_password_must_meet_the_policy(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    user = await create_user(client, admin)
    r = await client.post(
        "/api/me/password",
        json={"current_password": DEFAULT_PASSWORD, "new_password": "short"},
        headers=user.headers,
    )
    body = assert_error(r, 400, "password_too_short")
    assert body["data"] == {"min_length": 10}


async def test_i_can_update_my_profile(client: httpx.AsyncClient, admin: LoggedIn) -> None:
    user = await create_user(client, admin)
    r = await client.patch(
        "/api/me/profile",
        json={"status_message": "회의 중입니다", "work_status": "meeting", "title": "대리"},
        headers=user.headers,
    )
    assert r.status_code == 200, r.text
    seen_by_admin = await client.get(f"/api/users/{user.user_id}/profile", headers=admin.headers)
    profile = seen_by_admin.json()
    assert (profile["status_message"], profile["work_status"], profile["title"]) == (
        "회의 중입니다",
        "meeting",
        "대리",
    )


async def test_unknown_work_status_is_refused(client: httpx.AsyncClient, admin: LoggedIn) -> None:
    r = await client.patch("/api/me/profile", json={"work_status": "asleep"}, headers=admin.headers)
    assert_error(r, 400, "work_status_invalid")


async def test_profile_of_an_unknown_user_is_404(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    r = await client.get("/api/users/999999/profile", headers=admin.headers)
    assert_error(r, 404, "user_not_found")


# --- people paging -------------------------------------------------------------------------------


async def test_people_are_paged_by_id(client: httpx.AsyncClient, admin: LoggedIn) -> None:
    for _ in range(3):
        await create_user(client, admin)
    first = await client.get("/api/users", params={"limit": 2}, headers=admin.headers)
    assert first.status_code == 200, first.text
    page1 = [u["id"] for u in first.json()]
    rest = await client.get(
        "/api/users", params={"after_id": page1[-1], "limit": 10}, headers=admin.headers
    )
    page2 = [u["id"] for u in rest.json()]
    assert len(page1) == 2
    assert len(page2) == 2
    assert page1 + page2 == sorted(page1 + page2)


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "abc"},
        {"limit": "-1"},
        {"limit": "0"},
        {"limit": "1e3"},
        {"limit": "99999999999999999999999"},
        {"after_id": "-1"},
        {"after_id": "x"},
        {"after_id": str(2**63)},
    ],
)
async def test_bad_paging_values_are_refused_with_a_stable_code(
    client: httpx.AsyncClient, admin: LoggedIn, params: dict[str, str]
) -> None:
    for path in ("/api/users", "/api/admin/users"):
        r = await client.get(path, params=params, headers=admin.headers)
        body = assert_error(r, 422, "validation_failed")
        assert body["data"]["errors"][0]["loc"][0] == "query"


async def test_bad_path_ids_are_refused_with_a_stable_code(
    client: httpx.AsyncClient, admin: LoggedIn
) -> None:
    for user_id in ("0", "-5", "abc", str(2**63)):
        r = await client.get(f"/api/users/{user_id}/profile", headers=admin.headers)
        assert_error(r, 422, "validation_failed")
