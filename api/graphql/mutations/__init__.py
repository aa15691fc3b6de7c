"""Mutations: one ``input``, a payload with the result and ``errors`` (empty on success), by
area, joined into the one ``Mutation`` type. Each resolver names its command and what to read
back; ``act.mutate`` does the rest (ids, threadpool, read-your-writes, typed refusals)."""

from __future__ import annotations

from strawberry.tools import merge_types

from api.graphql.mutations.accounts import AccountMutations
from api.graphql.mutations.awards import AwardMutations
from api.graphql.mutations.catalogue import CatalogueMutations
from api.graphql.mutations.compromise import CompromiseMutations
from api.graphql.mutations.consents import ConsentMutations
from api.graphql.mutations.europass import EuropassMutations
from api.graphql.mutations.exports import ExportMutations
from api.graphql.mutations.institutions import InstitutionMutations
from api.graphql.mutations.learners import LearnerMutations
from api.graphql.mutations.reviews import ReviewMutations
from api.graphql.mutations.xapi import XapiMutations

Mutation = merge_types(
    "Mutation",
    (
        InstitutionMutations,
        LearnerMutations,
        AccountMutations,
        ConsentMutations,
        ExportMutations,
        CatalogueMutations,
        ReviewMutations,
        AwardMutations,
        CompromiseMutations,
        EuropassMutations,
        XapiMutations,
    ),
)
