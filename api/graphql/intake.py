"""An intake job (``POST /intake``): its state, counts and refused lines, for the institution
that uploaded it, officers and auditors (application.intake)."""

from __future__ import annotations

import enum
from uuid import UUID

import strawberry

from api.auth import Role
from api.graphql import authz
from api.graphql.common import Node, PageInfo, gid, parse_id
from api.graphql.context import Info
from api.graphql.errors import ApiError, ErrorCode
from api.graphql.pagination import after_int, keyset_page, page_size
from application.intake.jobs import IntakeStore, Job


@strawberry.enum(description="Where an upload's job stands.")
class IntakeState(enum.Enum):
    QUEUED = strawberry.enum_value("QUEUED", description="received whole, waiting for a worker")
    RUNNING = strawberry.enum_value("RUNNING", description="a worker is depositing its lines")
    DONE = strawberry.enum_value("DONE", description="every line has its answer")
    FAILED = strawberry.enum_value("FAILED", description="the upload broke off; nothing kept")


@strawberry.type(
    description="A line of an upload that was refused, with the code "
    "depositCredential gives the same deposit."
)
class IntakeRefusal:
    line: int = strawberry.field(description="its line in the uploaded file (from 1)")
    code: ErrorCode
    message: str


@strawberry.type
class IntakeRefusalEdge:
    cursor: str
    node: IntakeRefusal


@strawberry.type
class IntakeRefusalConnection:
    edges: list[IntakeRefusalEdge]
    page_info: PageInfo
    total_count: int


@strawberry.type(description="An institution's upload of credentials and what became of it.")
class IntakeJob(Node):
    state: IntakeState
    total: int = strawberry.field(description="lines received (blank lines are not counted)")
    processed: int = strawberry.field(description="lines with an answer so far")
    accepted: int = strawberry.field(
        description="lines deposited, or already held by the account (a line sent again)"
    )
    refused: int

    @strawberry.field(description="the refused lines, in line order")
    async def refusals(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> IntakeRefusalConnection:
        limit = page_size(first)
        store = IntakeStore(info.context.bank.database)
        job_id = UUID(str(self.id))
        rows = await info.context.run(store.refusals, job_id, after_int(after), limit + 1)
        page = keyset_page(rows, lambda r: str(r[0]), limit, after)
        edges = [
            IntakeRefusalEdge(
                cursor=cursor, node=IntakeRefusal(line=n, code=ErrorCode(code), message=message)
            )
            for cursor, (n, code, message) in page.items
        ]
        return IntakeRefusalConnection(
            edges=edges,
            page_info=PageInfo.of(page),  # type: ignore[arg-type]
            total_count=self.refused,
        )

    @classmethod
    def of(cls, job: Job) -> IntakeJob:
        return cls(
            id=gid(job.id),
            state=IntakeState(job.state),
            total=job.total,
            processed=job.processed,
            accepted=job.accepted,
            refused=job.refused,
        )


async def read_intake_job(info: Info, job_id: strawberry.ID) -> IntakeJob | None:
    key = parse_id(job_id)
    p = info.context.require()
    job = await info.context.run(IntakeStore(info.context.bank.database).job, key)
    if job is None:
        return None
    if p.role is Role.INSTITUTION and not authz.subject_is(p, job.institution_id):
        raise ApiError("FORBIDDEN", "only the institution that uploaded it may read a job")
    return IntakeJob.of(job)
