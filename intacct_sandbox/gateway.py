"""The request pipeline of ``xmlgw.phtml``: parse, faults, control, authentication, functions, envelope.

Independent of HTTP: ``Gateway.handle`` takes the body and the URL the client reached, and returns the
status, body and whether to drop the connection instead of answering.
"""

from __future__ import annotations

import logging
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo

from lxml import etree

from . import idempotency, zone
from .auth import Registry, Session, SessionStore
from .clock import Clock
from .config import (VALIDATE_REQUESTS, INVALID_SESSION_TEXT, MAX_STORED_RESULT_SETS, OFFLINE_ERRORNO, RATE_LIMIT_TEXT,
                     UNIQUEID_DEFAULT_WHEN_ABSENT, SandboxConfig)
from .context import Context
from .db import Store, savepoint
from .envelope import (Control, FunctionResult, Request, control_block, error_block, gateway_error_body,
                       parse_request, read_control, schema_error, support_id)
from .errors import AuthError, ControlError, ErrorEntry, FunctionError, rollback_entry
from .faults import FaultInjector
from .functions.registry import GENERIC_OBJECT_WRITES, HANDLERS, WRITE_FUNCTIONS
from .requestrules import check_request
from .resultsets import ResultSets
from .stats import Stats
from .xmlio import Node, leaf, parse, parse_leniently, render

log = logging.getLogger("intacct_sandbox")

CDN_524_BODY = (b"<!DOCTYPE html><html><head><title>524: A timeout occurred</title></head><body>"
                b"<h1>Error 524</h1><p>A timeout occurred. The origin web server timed out responding to this "
                b"request.</p></body></html>")


@dataclass
class Services:
    config: SandboxConfig
    store: Store
    clock: Clock
    registry: Registry
    sessions: SessionStore
    resultsets: ResultSets
    faults: FaultInjector
    stats: Stats
    zone: tzinfo = timezone.utc


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str = "text/xml; charset=UTF-8"
    drop: bool = False
    headers: dict[str, str] = field(default_factory=dict)


class _Rollback(Exception):
    def __init__(self, results: list[FunctionResult]) -> None:
        super().__init__("transaction rolled back")
        self.results = results


def build_services(config: SandboxConfig, store: Store) -> Services:
    clock = Clock()
    faults = FaultInjector(config.fault_seed)
    if config.fault_spec:
        faults.configure(config.fault_spec)
    return Services(
        config=config, store=store, clock=clock, registry=Registry.from_credentials(config.credentials),
        sessions=SessionStore(store, clock, config.session_seconds),
        resultsets=ResultSets(config.result_set_ttl, MAX_STORED_RESULT_SETS), faults=faults, stats=Stats(),
        zone=zone.named(config.timezone),
    )


class Gateway:
    def __init__(self, services: Services) -> None:
        self.s = services

    # -- entry point --
    def handle(self, body: bytes, endpoint: str) -> Reply:
        try:
            root = parse(body)
        except etree.XMLSyntaxError as exc:
            self.s.stats.request([])
            return self._control_failure(read_control(parse_leniently(body)), [self._parse_error(exc)])
        try:
            if VALIDATE_REQUESTS:
                check_request(root)
            request = parse_request(root)
        except ControlError as exc:
            self.s.stats.request([])
            return self._control_failure(read_control(root), exc.errors)
        names = [f.name for f in request.functions]
        self.s.stats.request(names)
        decision = self.s.faults.decide(names)
        for kind in decision.fired:
            self.s.stats.fault(kind)
        if decision.outcome == "rate_limit":
            return self._rate_limited()
        if decision.outcome in ("http_502", "http_503"):
            code = int(decision.outcome[-3:])
            text = b"Bad Gateway" if code == 502 else b"Service Temporarily Unavailable"
            return Reply(code, b"<html><body><h1>" + str(code).encode() + b" " + text + b"</h1></body></html>",
                         "text/html; charset=UTF-8")
        company_key = self._company_hint(request)
        if not self.s.faults.enter(company_key):
            self.s.stats.fault("concurrency_limit")
            return self._rate_limited()
        try:
            if decision.delay_seconds:
                time.sleep(decision.delay_seconds)
            if decision.expire_sessions:
                self.s.sessions.expire_all()
            with zone.serving(self.s.zone):
                reply = self._process(request, endpoint, offline=decision.outcome == "offline")
        finally:
            self.s.faults.leave(company_key)
            self.s.sessions.flush()
        if decision.outcome == "http_524":
            return Reply(524, CDN_524_BODY, "text/html; charset=UTF-8")
        if decision.outcome == "drop_connection":
            reply.drop = True
        return reply

    # -- pipeline steps --
    def _process(self, request: Request, endpoint: str, offline: bool) -> Reply:
        control = request.control
        pretty = control.includewhitespace
        uniqueid_echo = control.uniqueid if control.uniqueid not in (None, "") else (
            "true" if UNIQUEID_DEFAULT_WHEN_ABSENT else "false")
        if control.policyid:
            return self._control_failure(control, [ErrorEntry(
                "XL03000006", f"{control.policyid} is not a valid transport policy.")])
        if not self.s.registry.sender_ok(control.senderid, control.password):
            return self._control_failure(control, [ErrorEntry(
                "XL03000006", "Incorrect Intacct XML Partner ID or password.", "",
                "Check the Web Services sender ID and password.")])
        response = Node("response").add(control_block(control, "success", uniqueid_echo))
        operation = Node("operation")
        response.add(operation)
        try:
            auth_node, ctx_args = self._authenticate(request)
        except AuthError as exc:
            operation.add(Node("authentication").add(leaf("status", "failure"), leaf("userid", exc.userid),
                                                     leaf("companyid", exc.companyid)))
            operation.add(error_block(exc.errors))
            return Reply(200, render(response, pretty))
        operation.add(auth_node)
        if offline:
            results = [FunctionResult(f.name, f.controlid, "failure", errors=[ErrorEntry(
                OFFLINE_ERRORNO, "The Service is Temporarily Off-line. Please try again later.",
                "The Service is Temporarily Off-line", "Please Try Again Later")]) for f in request.functions]
        else:
            guard = self.s.config.uniqueid_guard and uniqueid_echo.lower() == "true"
            results = self._run_functions(request, ctx_args, endpoint, guard)
        for result in results:
            operation.add(result.node())
        return Reply(200, render(response, pretty))

    def _authenticate(self, request: Request) -> tuple[Node, dict]:
        control = request.control
        registry = self.s.registry
        now = self.s.clock.now()
        session: Session | None = None
        if request.login is not None:
            login = request.login
            company_id, entity = login.companyid, login.locationid
            if "|" in company_id:
                company_id, _, entity = company_id.partition("|")
                entity = entity or login.locationid
            company = registry.company(company_id)
            if company is not None and control.senderid not in company.authorised_senders:
                raise self._unauthorised_sender(control.senderid, company_id, login.userid)
            if company is None or not registry.user_ok(company, login.userid, login.password):
                raise AuthError(ErrorEntry("XL03000006", "Sign-in information is incorrect", "",
                                           "Check the user ID, company ID and password."),
                                login.userid, login.companyid)
            if entity and (not company.multi_entity or entity not in company.entities):
                raise AuthError(ErrorEntry("XL03000006", "Sign-in information is incorrect", "",
                                           f"The entity/location '{entity}' is not valid for this company."),
                                login.userid, login.companyid)
            user_id = login.userid
            expiry = now + timedelta(seconds=self.s.config.session_seconds)
        else:
            session = self.s.sessions.get(request.sessionid or "")
            if session is None:
                raise AuthError(ErrorEntry("XL03000006", INVALID_SESSION_TEXT, "",
                                           "Sign in again (getAPISession) to get a new session."))
            company = registry.company(session.company_id)
            if company is None:
                raise AuthError(ErrorEntry("XL03000006", INVALID_SESSION_TEXT))
            if control.senderid not in company.authorised_senders:
                raise self._unauthorised_sender(control.senderid, company.company_id, session.user_id)
            user_id, entity = session.user_id, session.entity
            expiry = datetime.fromtimestamp(self.s.sessions.touch(session), timezone.utc)
        node = Node("authentication").add(
            leaf("status", "success"), leaf("userid", user_id), leaf("companyid", company.company_id),
            leaf("locationid", entity), leaf("sessiontimestamp", zone.iso(now)),
            leaf("sessiontimeout", zone.iso(expiry)),
        )
        return node, {"company": company, "user_id": user_id, "entity": entity, "session": session,
                      "sender_id": control.senderid}

    def _run_functions(self, request: Request, ctx_args: dict, endpoint: str, guard: bool) -> list[FunctionResult]:
        writes = any(f.name in WRITE_FUNCTIONS for f in request.functions)
        opener = self.s.store.writing if writes else self.s.store.reading
        try:
            with opener() as conn:
                ctx = Context(conn=conn, services=self.s, now=self.s.clock.now(), endpoint=endpoint, **ctx_args)
                if request.transaction:
                    return self._run_transaction(ctx, request, guard)
                return [self._run_one(ctx, call, guard) for call in request.functions]
        except _Rollback as rollback:
            return rollback.results

    def _run_transaction(self, ctx: Context, request: Request, guard: bool) -> list[FunctionResult]:
        results: list[FunctionResult] = []
        failed = False
        for call in request.functions:
            if failed:
                results.append(FunctionResult(call.name, call.controlid, "aborted", errors=[rollback_entry()]))
                continue
            result = self._run_one(ctx, call, guard)
            if result.status == "failure":
                failed = True
                result.errors.append(rollback_entry())
            results.append(result)
        if not failed:
            return results
        for i, result in enumerate(results):
            if result.status == "success":
                results[i] = FunctionResult(result.function, result.controlid, "aborted", errors=[rollback_entry()])
        raise _Rollback(results)

    def _run_one(self, ctx: Context, call, guard: bool) -> FunctionResult:
        handler = HANDLERS.get(call.name)
        result = FunctionResult(call.name, call.controlid)
        if handler is None:
            result.status = "failure"
            result.errors = [ErrorEntry("XL03000003", f"Unknown or unsupported function '{call.name}'.", "",
                                        "Use a function the gateway supports.")]
            return result
        is_write = call.name in WRITE_FUNCTIONS
        try:
            with savepoint(ctx.conn):
                if is_write and guard:
                    idempotency.check(ctx.conn, ctx.sender_id, ctx.company_id, call.controlid,
                                      ctx.now.timestamp())
                outcome = handler(ctx, call.element)
                if is_write and guard:
                    idempotency.remember(ctx.conn, ctx.sender_id, ctx.company_id, call.controlid, call.name,
                                         ctx.now.timestamp() + self.s.config.controlid_ttl)
        except FunctionError as exc:
            result.status = "failure"
            result.errors = exc.errors
            if call.name in GENERIC_OBJECT_WRITES:
                result.data = Node("data", attrs=[("listtype", "objects"), ("count", "0")])
            return result
        except Exception:  # noqa: BLE001 - a sandbox bug must look like a server-side error, not a crash
            log.exception("function %s failed unexpectedly", call.name)
            result.status = "failure"
            result.errors = [ErrorEntry("DL02000001", f"There was an error processing the request. "
                                        f"[Support ID: {support_id()}]")]
            return result
        if isinstance(outcome, Node):
            result.data = outcome
        elif isinstance(outcome, str):
            result.key = outcome
        return result

    # -- failures outside functions --
    def _control_failure(self, control: Control, errors: list[ErrorEntry]) -> Reply:
        uniqueid = control.uniqueid if control.uniqueid not in (None, "") else (
            "true" if UNIQUEID_DEFAULT_WHEN_ABSENT else "false")
        root = Node("response").add(control_block(control, "failure", uniqueid), error_block(errors))
        return Reply(200, render(root, control.includewhitespace))

    @staticmethod
    def _parse_error(exc: etree.XMLSyntaxError) -> ErrorEntry:
        line, column = (exc.position if exc.position else (exc.lineno or 0, 0))
        message = (exc.msg or str(exc)).split(", line ")[0]
        return schema_error(f"Fatal Error {exc.code}: {message}", line or 1, column).errors[0]

    @staticmethod
    def _unauthorised_sender(sender_id: str, company_id: str, user_id: str) -> AuthError:
        return AuthError(ErrorEntry(
            "XL03000006",
            f"The sender ID '{sender_id}' is not authorized to make Web Services requests to company ID "
            f"'{company_id}'.",
            "Invalid Web Services Authorization",
            "Contact the company administrator to grant Web Services authorization to this sender ID.",
        ), user_id, company_id)

    def _rate_limited(self) -> Reply:
        body = gateway_error_body("GW-0010", f"{RATE_LIMIT_TEXT}. Too many requests; slow down and retry.")
        return Reply(429, body, headers={"Retry-After": "1"})

    def _company_hint(self, request: Request) -> str:
        if request.login is not None:
            return request.login.companyid.partition("|")[0]
        session = self.s.sessions.get(request.sessionid or "")
        return session.company_id if session else ""


def endpoint_from(host: str | None, scheme: str, path: str, fallback: str) -> str:
    """The URL the client used to reach us (Host header), which getAPISession returns as ``endpoint``."""
    host = (host or "").strip() or fallback
    clean_path = urllib.parse.urlsplit(path).path
    return f"{scheme}://{host}{clean_path}"
