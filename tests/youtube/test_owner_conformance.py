"""The Reporting, Analytics and OAuth simulators accept and answer what the real APIs do.

As ``test_conformance.py`` does for the Data API: the rules come from the
bundled discovery documents (``youtubereporting.v1``, ``youtubeAnalytics.v2``:
parameters, their types and documented requirements, the response schemas),
from Google's OAuth 2.0 token endpoint's documented answers, and from the
Analytics API's reference (the top-videos report needs ``sort`` and at most
200 ``maxResults``; ``video,day`` is not a supported query; monetary metrics
need the monetary scope and a channel in the Partner Program).
"""

from __future__ import annotations

import gzip
import json
from datetime import date, timedelta
from urllib.parse import urlencode, urlsplit

import pytest

from simulation.owner_apis import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from simulation.owner_model import owner_traits
from tests.youtube.conformance import Answer, call, method, parameters, schema_problems

REPORTING = ("youtubereporting", "v1")
ANALYTICS = ("youtubeAnalytics", "v2")


def _token(sim, channel_index: int = 0, monetary: bool = True) -> str:
    channel = sim.network.channels[channel_index].channel_id
    refresh = sim.owner.oauth.grant(channel, monetary)
    body = urlencode(
        {
            "grant_type": "refresh_token",
            "refresh_token": refresh,
            "client_id": DEFAULT_CLIENT_ID,
            "client_secret": DEFAULT_CLIENT_SECRET,
        }
    ).encode()
    answer = call(sim.url, "token", method="POST", body=body, headers=_FORM)
    assert answer.status == 200, answer
    return str(answer.json["access_token"])


_FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _post_token(sim, form: dict[str, str]) -> Answer:
    return call(sim.url, "token", method="POST", headers=_FORM, body=urlencode(form).encode())


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _monetized(sim, want: bool) -> int:
    return next(
        c.index
        for c in sim.network.channels
        if owner_traits(sim.network, c.index).monetized == want
    )


@pytest.fixture
def aged(simulator):
    """The simulator 40 days into its network, with a job of channel 0 made 10 days earlier."""
    simulator.set_day(date(2025, 2, 10))
    channel = simulator.network.channels[0].channel_id
    simulator.owner.create_job(channel, "channel_basic_a3", simulator.now - timedelta(days=10))
    return simulator


# --- OAuth ------------------------------------------------------------------------------------


def test_token_endpoint_answers_as_google_does(simulator):
    token = _token(simulator)
    assert token.startswith("ya29.")
    channel = simulator.network.channels[0].channel_id
    refresh = simulator.owner.oauth.grant(channel)
    form = {"grant_type": "refresh_token", "refresh_token": refresh, "client_id": DEFAULT_CLIENT_ID}
    wrong = _post_token(simulator, {**form, "client_secret": "nope"})
    assert (wrong.status, wrong.json["error"]) == (401, "invalid_client")
    simulator.owner.oauth.revoke(channel)
    revoked = _post_token(simulator, {**form, "client_secret": DEFAULT_CLIENT_SECRET})
    assert (revoked.status, revoked.json["error"]) == (400, "invalid_grant")
    assert revoked.json["error_description"] == "Token has been expired or revoked."


def test_a_call_without_or_with_a_bad_token_is_unauthenticated(simulator):
    for headers, reason in (({}, "required"), (_auth("ya29.forged"), "authError")):
        answer = call(simulator.url, "v1/reportTypes", headers=headers)
        assert answer.status == 401, answer
        assert answer.error["reason"] == reason
        assert (answer.error["location"], answer.error["locationType"]) == (
            "Authorization",
            "header",
        )
        assert answer.json["error"]["status"] == "UNAUTHENTICATED"


# --- Reporting API ----------------------------------------------------------------------------


def _reporting(sim, path: str, params=None, **kw) -> Answer:
    return call(sim.url, path, params, headers=_auth(_token(sim)), **kw)


@pytest.mark.parametrize(
    ("name", "path", "key"),
    [("reportTypes.list", "v1/reportTypes", "reportTypes"), ("jobs.list", "v1/jobs", "jobs")],
)
def test_lists_match_their_schemas(aged, name, path, key):
    schema = method(*REPORTING, name)["response"]["$ref"]
    answer = _reporting(aged, path)
    assert answer.status == 200, answer
    assert not schema_problems(answer.json, schema, *REPORTING), answer
    assert answer.json[key]


@pytest.mark.parametrize(
    ("name", "value"), [("pageSize", "seven"), ("includeSystemManaged", "maybe")]
)
def test_parameters_of_the_wrong_type_are_refused(aged, name, value):
    spec = parameters(*REPORTING, "jobs.list")[name]
    assert spec["type"] in ("integer", "boolean")
    answer = _reporting(aged, "v1/jobs", [(name, value)])
    assert (answer.status, answer.json["error"]["status"]) == (400, "INVALID_ARGUMENT"), answer


def test_report_types_are_discovered_with_their_deprecations(simulator):
    types = {t["id"]: t for t in _reporting(simulator, "v1/reportTypes").json["reportTypes"]}
    assert "channel_basic_a3" in types
    assert "deprecateTime" not in types["channel_basic_a3"]
    assert types["channel_basic_a2"]["deprecateTime"] == "2025-10-31T07:00:00Z"
    simulator.set_day(date(2025, 12, 15))  # gone from the list 30 days after
    assert "channel_basic_a2" not in {
        t["id"] for t in _reporting(simulator, "v1/reportTypes").json["reportTypes"]
    }


def test_jobs_create_get_and_a_second_job_of_a_type_is_a_conflict(simulator):
    token = _token(simulator)
    body = json.dumps({"reportTypeId": "channel_reach_basic_a1", "name": "reach"}).encode()
    made = call(simulator.url, "v1/jobs", method="POST", body=body, headers=_auth(token))
    assert made.status == 200, made
    assert not schema_problems(made.json, "Job", *REPORTING)
    got = call(simulator.url, f"v1/jobs/{made.json['id']}", headers=_auth(token))
    assert got.json == made.json
    again = call(simulator.url, "v1/jobs", method="POST", body=body, headers=_auth(token))
    assert (again.status, again.json["error"]["status"]) == (409, "ALREADY_EXISTS")
    missing = call(simulator.url, "v1/jobs/nope", headers=_auth(token))
    assert (missing.status, missing.error["reason"]) == (404, "notFound")


def test_reports_list_filters_pages_and_matches_its_schema(aged):
    token = _token(aged)
    job = next(iter(aged.owner.jobs.values()))
    path = f"v1/jobs/{job.id}/reports"
    everything: list[dict] = []
    page_token = None
    while True:
        params = [("pageSize", "7")] + ([("pageToken", page_token)] if page_token else [])
        answer = call(aged.url, path, params, headers=_auth(token))
        assert answer.status == 200, answer
        assert not schema_problems(answer.json, "ListReportsResponse", *REPORTING), answer
        everything += answer.json["reports"]
        page_token = answer.json.get("nextPageToken")
        if not page_token:
            break
    assert len(everything) == len({r["id"] for r in everything}) >= 30
    newest = max(r["createTime"] for r in everything)
    after = call(aged.url, path, [("createdAfter", newest)], headers=_auth(token))
    assert "reports" not in after.json  # strictly after
    start = sorted(r["startTime"] for r in everything)[5]
    since = call(
        aged.url, path, [("startTimeAtOrAfter", start), ("pageSize", "100")], headers=_auth(token)
    )
    assert min(r["startTime"] for r in since.json["reports"]) == start
    assert (
        parameters(*REPORTING, "jobs.reports.list")["createdAfter"]["format"] == "google-datetime"
    )
    bad = call(aged.url, path, [("createdAfter", "yesterday")], headers=_auth(token))
    assert (bad.status, bad.json["error"]["status"]) == (400, "INVALID_ARGUMENT")
    one = everything[0]
    got = call(aged.url, f"{path}/{one['id']}", headers=_auth(token))
    assert got.json == one
    assert not schema_problems(got.json, "Report", *REPORTING)


def test_media_download_serves_the_csv_gzip_compressed(aged):
    token = _token(aged)
    job = next(iter(aged.owner.jobs.values()))
    report = _reporting(aged, f"v1/jobs/{job.id}/reports").json["reports"][0]
    url = urlsplit(report["downloadUrl"])
    assert url.query == "alt=media"
    answer = call(
        aged.url, url.path, [("alt", "media")], headers={**_auth(token), "Accept-Encoding": "gzip"}
    )
    assert answer.status == 200, answer
    assert answer.headers["Content-Encoding"] == "gzip"
    text = gzip.decompress(answer.raw).decode()
    header = text.splitlines()[0].split(",")
    assert header[:3] == ["date", "channel_id", "video_id"]
    assert "engaged_views" in header
    other = _token(aged, channel_index=1)  # another channel's owner cannot read it
    assert call(aged.url, url.path, [("alt", "media")], headers=_auth(other)).status in (403, 404)


# --- Analytics API ----------------------------------------------------------------------------

_REQUIRED = [
    name
    for name, spec in parameters(*ANALYTICS, "reports.query").items()
    if "required: true" in spec.get("description", "")
]
_QUERY = {
    "ids": "channel==MINE",
    "startDate": "2025-01-20",
    "endDate": "2025-02-05",
    "metrics": "views,estimatedRevenue,cpm,adImpressions",
    "dimensions": "day",
}


def _query(sim, params: dict[str, str], token: str) -> Answer:
    return call(sim.url, "v2/reports", list(params.items()), headers=_auth(token))


def test_query_answers_a_result_table(aged):
    token = _token(aged, _monetized(aged, True))
    answer = _query(aged, _QUERY, token)
    assert answer.status == 200, answer
    assert not schema_problems(answer.json, "QueryResponse", *ANALYTICS), answer
    assert answer.json["kind"] == "youtubeAnalytics#resultTable"
    headers = [(h["name"], h["columnType"], h["dataType"]) for h in answer.json["columnHeaders"]]
    assert headers == [
        ("day", "DIMENSION", "STRING"),
        ("views", "METRIC", "INTEGER"),
        ("estimatedRevenue", "METRIC", "FLOAT"),
        ("cpm", "METRIC", "FLOAT"),
        ("adImpressions", "METRIC", "INTEGER"),
    ]
    days = [r[0] for r in answer.json["rows"]]
    assert days == sorted(days)
    assert days[0] == "2025-01-20"


@pytest.mark.parametrize("name", _REQUIRED)
def test_every_documented_required_parameter_is_required(aged, name):
    assert set(_REQUIRED) == {"ids", "startDate", "endDate", "metrics"}
    answer = _query(aged, {k: v for k, v in _QUERY.items() if k != name}, _token(aged))
    assert (answer.status, answer.error.get("reason")) == (400, "required"), answer


@pytest.mark.parametrize(
    "change",
    [
        {"dimensions": "video,day"},
        {"dimensions": "video"},  # no sort, no maxResults
        {"dimensions": "video", "sort": "-views", "maxResults": "201"},
        {
            "dimensions": "video",
            "sort": "-views",
            "maxResults": "10",
            "metrics": "views,adImpressions",
        },
        {"metrics": "views,notAMetric"},
        {"maxResults": "0"},
    ],
)
def test_unsupported_queries_are_bad_requests(aged, change):
    answer = _query(aged, {**_QUERY, **change}, _token(aged, _monetized(aged, True)))
    assert answer.status == 400, (change, answer)


def test_top_videos_report_pages(aged):
    token = _token(aged, _monetized(aged, True))
    query = {**_QUERY, "startDate": "2025-02-01", "endDate": "2025-02-01", "dimensions": "video",
             "sort": "-estimatedRevenue", "metrics": "views,estimatedRevenue"}  # fmt: skip
    whole = _query(aged, {**query, "maxResults": "200"}, token).json["rows"]
    first = _query(aged, {**query, "maxResults": "5"}, token).json["rows"]
    second = _query(aged, {**query, "maxResults": "5", "startIndex": "6"}, token).json["rows"]
    assert first + second == whole[:10]
    assert [r[2] for r in whole] == sorted((r[2] for r in whole), reverse=True)


def test_monetary_metrics_need_the_partner_program_and_the_scope(aged):
    outside = _token(aged, _monetized(aged, False))
    answer = _query(aged, _QUERY, outside)
    assert (answer.status, answer.error["reason"]) == (403, "forbidden")
    unscoped = _token(aged, _monetized(aged, True), monetary=False)
    answer = _query(aged, _QUERY, unscoped)
    assert (answer.status, answer.error["reason"]) == (403, "insufficientPermissions")
    assert _query(aged, {**_QUERY, "metrics": "views"}, unscoped).status == 200


def test_recent_days_have_no_row_and_revenue_settles(aged):
    token = _token(aged, _monetized(aged, True))
    end = aged.now.date()
    query = {
        **_QUERY,
        "startDate": (end - timedelta(days=6)).isoformat(),
        "endDate": end.isoformat(),
    }
    early = {r[0]: r[2] for r in _query(aged, query, token).json["rows"]}
    assert end.isoformat() not in early  # < 24 h after the day
    aged.set_day(end + timedelta(days=5))
    late = {r[0]: r[2] for r in _query(aged, query, token).json["rows"]}
    recent = max(early)
    assert late[recent] > early[recent]  # preliminary then settled
    oldest = min(early)
    assert late[oldest] == early[oldest]  # settled already
