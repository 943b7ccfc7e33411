"""``IntacctClient``: sessions, retries, paging and batched function execution over the XML gateway.

One exchange = build envelope (``envelope``) -> POST (``transport``) -> parse (``response``) ->
classify failures (``errors.classify``). Around it: the retry policy (``retry``), one re-sign-in
when a session is refused, and paging strategies (``paging``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from urllib.parse import urlsplit

import requests

from . import functions as fn
from .clock import SYSTEM_CLOCK, Clock
from .credentials import IntacctCredentials
from .envelope import LoginAuth, SessionAuth, build_request
from .errors import (
    AuthenticationError,
    IntacctError,
    RecordError,
    SessionExpiredError,
    TransientRecordError,
    classify,
)
from .filters import Filter
from .paging import DEFAULT_PAGER, Pager
from .records import Value
from .response import MalformedResponse, Response, Result, gateway_error_details, parse_chunks
from .retry import RetryPolicy, run_with_retry
from .session import DEFAULT_REFRESH_MARGIN, Session, SessionInfo, session_from_response
from .transport import DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_RESPONSE_DEADLINE, Transport, limiter_for

log = logging.getLogger("sync_engine.intacct.client")

MAX_FUNCTIONS_PER_REQUEST = 100
READ_KEYS_PER_FUNCTION = fn.MAX_READ_KEYS
READ_FUNCTIONS_PER_REQUEST = 10  # 10 x 100 keys keeps one response to ~1000 records

__all__ = ["FunctionResult", "IntacctClient", "RetryPolicy", "SessionInfo"]


@dataclass
class FunctionResult:
    """The outcome of one function: records/key on success, a :class:`RecordError` on failure."""

    function: str
    controlid: str
    ok: bool
    key: str | None
    records: list[dict] = field(default_factory=list)
    error: RecordError | None = None
    raw_data_attrs: dict = field(default_factory=dict)


class IntacctClient:
    """A client for one Intacct connection (sender + company user + optional entity).

    Thread-safe; every client of the same endpoint+company+user shares one in-flight limit.
    """

    def __init__(
        self,
        credentials: IntacctCredentials,
        *,
        timeout: tuple[float, float] = (5, 60),
        retry: RetryPolicy | None = None,
        max_in_flight: int = 2,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        http: requests.Session | None = None,
        clock: Clock = SYSTEM_CLOCK,
        session_refresh_margin: timedelta = DEFAULT_REFRESH_MARGIN,
        response_deadline: float = DEFAULT_RESPONSE_DEADLINE,
    ) -> None:
        self._creds = credentials
        self._policy = retry or RetryPolicy()
        self._clock = clock
        self._margin = session_refresh_margin
        self._owns_http = http is None
        self._http = http or requests.Session()
        self._transport = Transport(
            http=self._http,
            timeout=timeout,
            max_response_bytes=max_response_bytes,
            limiter=limiter_for(credentials.connection_key, max_in_flight),
            secrets=self._secrets,
            retry_statuses=self._policy.retry_statuses,
            response_deadline=response_deadline,
        )
        self._session: Session | None = None
        self._session_lock = threading.RLock()
        self._login_failure: AuthenticationError | None = None

    # ------------------------------------------------------------ housekeeping

    def __repr__(self) -> str:
        return f"IntacctClient({self._creds!r})"

    def __enter__(self) -> IntacctClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the HTTP connection pool if this client created it."""
        if self._owns_http:
            self._http.close()

    @property
    def requests_sent(self) -> int:
        """HTTP requests sent so far (every attempt, sign-ins included)."""
        return self._transport.requests_sent

    @property
    def session_info(self) -> SessionInfo | None:
        """The current session's public info, if signed in."""
        s = self._session
        return s.info if s else None

    def _secrets(self) -> tuple[str, ...]:
        s = self._session
        return self._creds.secrets() + ((s.session_id,) if s else ())

    # ------------------------------------------------------------ sessions

    def open_session(self) -> SessionInfo:
        """Sign in with ``getAPISession`` now (even if a session exists) and return its info."""
        with self._session_lock:
            self._login_failure = None
            return self._login(self._policy).info

    def test_connection(self) -> SessionInfo:
        """Sign in once, without retries, to check the settings; errors carry a clear ``user_message``."""
        with self._session_lock:
            self._login_failure = None
            return self._login(replace(self._policy, max_attempts=1)).info

    def _login(self, policy: RetryPolicy) -> Session:
        url = self._creds.endpoint_url
        func = fn.get_api_session()
        try:
            resp = run_with_retry(
                policy, lambda: self._exchange(url, LoginAuth(self._creds), [func], is_write=False, session=None),
                sleep=self._clock.sleep, describe="getAPISession",
            )
            result = resp.results[0]
            if not result.ok:
                raise classify(level="result", details=result.errors, function=result.function,
                               controlid=result.controlid, host=self._host(url))
            try:
                session = session_from_response(resp, login_url=url, now=self._clock.now())
            except MalformedResponse as exc:
                raise classify(level="format", message=str(exc), host=self._host(url)) from None
        except AuthenticationError as exc:
            # Circuit breaker: no automatic sign-in again until open_session()/test_connection() is called,
            # so a wrong password is not hammered into an account lockout.
            self._login_failure = exc
            self._session = None
            raise
        self._session = session
        log.info("Intacct session opened for %s/%s (entity %s), endpoint %s, expires %s",
                 session.info.company_id, session.info.user_id, session.info.location_id or "top level",
                 session.info.endpoint, session.info.expires_at.isoformat())
        return session

    def _current_session(self) -> Session:
        with self._session_lock:
            if self._login_failure is not None:
                prev = self._login_failure
                raise AuthenticationError(
                    f"not signing in again after an earlier rejection: {prev}",
                    details=prev.details, user_message=prev.user_message,
                )
            s = self._session
            if s is None or s.needs_refresh(self._clock.now(), self._margin):
                s = self._login(self._policy)
            return s

    def _drop_session(self, session: Session) -> None:
        with self._session_lock:
            if self._session is session:
                self._session = None

    # ------------------------------------------------------------ one exchange

    @staticmethod
    def _host(url: str) -> str:
        return urlsplit(url).netloc or url

    def _exchange(self, url: str, auth: LoginAuth | SessionAuth, functions: Sequence[fn.Function], *,
                  is_write: bool, session: Session | None) -> Response:
        """One POST and its classification; raises the classified error of any non-result failure."""
        host = self._host(url)
        body = build_request(self._creds, auth, functions, uniqueid=is_write)
        try:
            reply = self._transport.post(url, body, is_write=is_write, on_success=parse_chunks)
        except MalformedResponse as exc:
            raise classify(level="format", message=str(exc), is_write=is_write, http_status=200, host=host) from None
        if reply.status != 200:
            raise classify(
                level="http", http_status=reply.status, details=gateway_error_details(reply.body, reply.content_type),
                is_write=is_write, retry_after=reply.retry_after, retry_statuses=self._policy.retry_statuses,
                host=host, via_session=session is not None,
            )
        resp = reply.parsed
        assert isinstance(resp, Response)
        if resp.control_status != "success":
            raise classify(level="control", details=resp.control_errors, retry_after=reply.retry_after, host=host)
        auth_block = resp.authentication
        if auth_block is None:
            raise classify(level="format", message="no authentication block in the response", is_write=is_write,
                           host=host)
        if auth_block.status != "success":
            raise classify(level="authentication", details=resp.operation_errors, via_session=session is not None,
                           retry_after=reply.retry_after, host=host)
        if session is not None:
            session.slide(auth_block.session_timeout)
        if not resp.results and resp.operation_errors:
            # The operation itself was refused after a good sign-in (allowed by the response DTD): keep Intacct's
            # own error details instead of reporting missing results.
            raise classify(level="operation", details=resp.operation_errors, is_write=is_write, host=host)
        missing = self._align(functions, resp)
        if missing:
            raise classify(level="format", is_write=is_write, host=host,
                           message=f"no result for function(s) {', '.join(missing)}")
        return resp

    @staticmethod
    def _align(functions: Sequence[fn.Function], resp: Response) -> list[str]:
        """Reorder ``resp.results`` to match ``functions``; return the controlids left without a result."""
        by_id = {r.controlid: r for r in resp.results if r.controlid}
        aligned: list[Result] = []
        missing: list[str] = []
        for i, func in enumerate(functions):
            r = by_id.get(func.controlid)
            if r is None and i < len(resp.results) and not resp.results[i].controlid:
                r = resp.results[i]
            if r is None:
                missing.append(func.controlid)
            else:
                aligned.append(r)
        resp.results = aligned
        return missing

    def _send(self, functions: Sequence[fn.Function], *, is_write: bool) -> list[Result]:
        """Send with a session: transient retries per policy, and exactly one re-sign-in if refused."""
        relogged = False
        while True:
            session = self._current_session()
            url = session.info.endpoint
            try:
                resp = run_with_retry(
                    self._policy,
                    lambda: self._exchange(url, SessionAuth(session.session_id), functions, is_write=is_write,
                                           session=session),
                    sleep=self._clock.sleep,
                    describe=f"{'write' if is_write else 'read'} of {len(functions)} function(s)",
                )
                return resp.results
            except SessionExpiredError:
                self._drop_session(session)
                if relogged:
                    raise
                relogged = True
                log.info("Intacct refused the session; signing in again once")

    # ------------------------------------------------------------ functions

    def _run(self, functions: Sequence[fn.Function],
             repeats: Collection[str] = ()) -> list[tuple[Result, RecordError | None]]:
        """Run one request's functions; functions failing with a retry-later message are re-sent alone."""
        is_write = any(f.is_write for f in functions)
        outcome: dict[str, tuple[Result, RecordError | None]] = {}
        pending = list(functions)
        attempt = 0
        while pending:
            attempt += 1
            again: list[fn.Function] = []
            for func, res in zip(pending, self._send(pending, is_write=is_write)):
                error = None
                if not res.ok:
                    err = classify(level="result", details=res.errors, function=res.function or func.name,
                                   controlid=res.controlid or func.controlid,
                                   repeated=func.is_write and func.controlid in repeats)
                    if not isinstance(err, RecordError):
                        raise err
                    error = err
                    if isinstance(err, TransientRecordError) and self._policy.should_retry(err, attempt):
                        again.append(func)
                outcome[func.controlid] = (res, error)
            if again:
                wait = self._policy.wait_for(None, attempt)
                log.warning("%d function(s) reported a retry-later error; re-sending in %.2fs", len(again), wait)
                self._clock.sleep(wait)
            pending = again
        return [outcome[f.controlid] for f in functions]

    @staticmethod
    def _to_function_result(func: fn.Function, res: Result, error: RecordError | None) -> FunctionResult:
        records = res.records if error is None else []
        key = res.key
        if key is None and error is None and func.name in ("create", "update") and records:
            recno = records[0].get("RECORDNO")
            key = recno if isinstance(recno, str) else None
        return FunctionResult(
            function=res.function or func.name,
            controlid=res.controlid or func.controlid,
            ok=error is None,
            key=key,
            records=records,
            error=error,
            raw_data_attrs=res.data_attrs,
        )

    def execute(self, functions: Sequence[fn.Function], *, repeats: Collection[str] = ()) -> list[FunctionResult]:
        """Run ``functions`` (split into requests of at most 100), each outcome reported on its own.

        ``repeats`` names the controlids of writes sent again after an earlier attempt whose outcome was lost:
        any refusal of one of them comes back as :class:`DuplicateControlIdError` (look the record up), whatever
        Intacct's error number says.

        A request holding any write is sent with ``uniqueid=true`` and under the write rules: it is
        never re-sent after an outcome that may have reached the server (``AmbiguousWriteError``).
        Result-level failures come back as ``FunctionResult.error``; envelope-level failures raise,
        with ``partial_results`` (outcomes of earlier requests) and ``unsettled_controlids`` (this
        request and later ones) set on the error.
        """
        out: list[FunctionResult] = []
        for start in range(0, len(functions), MAX_FUNCTIONS_PER_REQUEST):
            chunk = list(functions[start:start + MAX_FUNCTIONS_PER_REQUEST])
            try:
                ran = self._run(chunk, repeats)
            except IntacctError as exc:
                # Earlier requests' outcomes (e.g. keys of created records) must not be lost with the error.
                exc.partial_results = list(out)
                exc.unsettled_controlids = [f.controlid for f in functions[start:]]
                raise
            for func, (res, error) in zip(chunk, ran):
                out.append(self._to_function_result(func, res, error))
        return out

    def call(self, function: fn.Function, *, repeat: bool = False) -> FunctionResult:
        """Run a single function; raise its :class:`RecordError` if it failed (``repeat``: see ``execute``)."""
        result = self.execute([function], repeats=(function.controlid,) if repeat else ())[0]
        if result.error is not None:
            raise result.error
        return result

    # ------------------------------------------------------------ reads

    def _read_one(self, func: fn.Function) -> Result:
        res, error = self._run([func])[0]
        if error is not None:
            raise error
        return res

    def iter_records(
        self,
        object: str,
        fields: Sequence[str],
        *,
        filter: Filter | None = None,
        page_size: int = fn.MAX_QUERY_PAGE,
        pager: Pager | None = None,
        on_total: Callable[[int], None] | None = None,
    ) -> Iterator[dict[str, Value]]:
        """Stream every matching record page by page as flat dicts keyed by exactly ``fields``.

        The default pager is keyset paging on RECORDNO (see README.md). Empty elements become None.
        ``on_total`` gets the first page's ``totalcount`` (how many records match), so a caller can show
        progress without a separate count request.
        """
        if isinstance(fields, str):
            fields = [fields]
        first = True

        def send(func: fn.Function) -> Result:
            nonlocal first
            result = self._read_one(func)
            if first and on_total is not None:
                first = False
                total = next((v for k, v in result.data_attrs.items() if k.lower() == "totalcount"), None)
                if total is not None and str(total).isdigit():
                    on_total(int(total))
            return result

        for page in (pager or DEFAULT_PAGER).pages(send, object, fields, filter, page_size):
            yield from page

    def count(self, object: str, filter: Filter | None = None) -> int:
        """Number of records matching ``filter`` (one ``query`` of page size 1, reading ``totalcount``)."""
        res = self._read_one(fn.query(object, ["RECORDNO"], filter=filter, order_by=None, page_size=1))
        for k, v in res.data_attrs.items():
            if k.lower() == "totalcount":
                try:
                    return int(v)
                except ValueError:
                    break
        raise classify(level="format", message="query response without a numeric totalcount",
                       host=self._host(self._creds.endpoint_url))

    def _read_keys(self, builder, object: str, keys: Sequence[str | int] | str, fields) -> list[dict]:
        items = [keys] if isinstance(keys, (str, int)) else list(keys)
        funcs = [builder(object, items[i:i + READ_KEYS_PER_FUNCTION], fields)
                 for i in range(0, len(items), READ_KEYS_PER_FUNCTION)]
        records: list[dict] = []
        for start in range(0, len(funcs), READ_FUNCTIONS_PER_REQUEST):
            for res in self.execute(funcs[start:start + READ_FUNCTIONS_PER_REQUEST]):
                if res.error is not None:
                    raise res.error
                records.extend(res.records)
        return records

    def read_by_name(self, object: str, keys: Sequence[str] | str, fields: Sequence[str] | str = ("*",)) -> list[dict]:
        """Records by ID field (chunks of 100 keys); nested blocks as dicts, line collections as lists."""
        return self._read_keys(fn.read_by_name, object, keys, fields)

    def read(self, object: str, keys: Sequence[str | int] | str, fields: Sequence[str] | str = ("*",)) -> list[dict]:
        """Records by RECORDNO (chunks of 100 keys); nested blocks as dicts, line collections as lists."""
        return self._read_keys(fn.read, object, keys, fields)

