"""Names and meanings of the model's outputs, and the run summary computed from the series."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .kinds import KINDS, LEVELS

#: Monthly series: name -> meaning.
SERIES_FIELDS: dict[str, str] = {
    **{f"adoption_{lv}": f"share adopted among {lv}-level organisations of the alliance's districts" for lv in LEVELS},
    "adoption_outside": "share adopted among organisations in districts outside the alliance",
    "adoption_all": "share adopted among all organisations",
    "adoption_members": "share adopted among current alliance members",
    **{f"adoption_{k}": f"share adopted among {k.replace('_', ' ')} organisations" for k in KINDS},
    "communities_reached": "communities served by adopting providers and local governments",
    "institutionalised_share": "share of organisations whose practice policy has institutionalised",
    "mean_knowledge": "mean knowledge of how to make the innovation work (0..1)",
    "member_knowledge": "mean knowledge of alliance members",
    "mean_trust": "mean trust of members in the alliance (0..1)",
    "alliance_size": "number of member organisations",
    "local_member_share": "share of members that are local-level organisations",
    "centralisation": "the lead organisation's share of all member-member ties (co-membership of a platform), 0..1",
    "attendance": "seats filled at meetings this month",
    "marginalised_attendance_share": "share of attendance by marginalised members",
    "private_attendance_share": "share of attendance by private-sector members",
    "decision_maker_attendance_share": "share of attendance by decision makers (vs operational staff)",
    "meetings": "platform meetings held this month",
    "case_studies": "action-research case studies running this month",
    "funding": "mean share of running costs platforms could pay",
    "donor_funded": "1 while donor money flows",
    "in_funding_gap": "1 during the funding gap",
    "mean_fit": "mean local fit of the innovation over districts",
    "ownership": "mean ownership of platforms by their members",
    "policy": "1 once national policy has changed",
    "districts_institutionalised": "share of districts whose local government has the practice in its plans and budget",
    "government_reach": "share of districts government backs (own plans and budget, or the national programme)",
    "cost": "spending this month (k USD)",
    "total_cost": "spending so far (k USD)",
    "functioning_platforms": "share of platforms meeting regularly, running action research and trusted",
}

#: Run outcomes: name -> meaning.
SUMMARY_FIELDS: dict[str, str] = {
    "functioning": "the alliance functioned (2/3 of platforms) at some month",
    "functioning_month": "first month the alliance functioned (NaN if never)",
    "institutionalised": "national policy changed during the run",
    "institutionalised_month": "month national policy changed (NaN if never)",
    "districts_institutionalised": "share of districts whose local government put the practice in its plans "
                                   "and budget by the end",
    "government_reach": "share of districts government backs at the end (own plans or the national programme)",
    "scaled": "adoption beyond the pilot districts reached scale_share",
    "scale_month": "first month adoption beyond the pilots reached scale_share (NaN if never)",
    "scale_extent": "share adopted beyond the pilot districts at the end of the run",
    "sustained": "at least sustain_min_share practised when donor funding ended and their survival is at least "
                 "sustain_ratio",
    "survival": "of those practising when donor funding ended, the share still practising "
                "sustain_horizon_months later (NaN if nobody practised then)",
    "practising_at_funding_end": "share of all organisations practising in the last donor-funded month",
    "uptake_after_funding": "share of all organisations practising at the end that did not practise when "
                            "donor funding ended",
    "retention": "final adoption as a share of its peak (NaN if nobody adopted)",
    "peak_adoption": "highest share adopted among all organisations",
    "final_adoption": "share adopted at the end of the run",
    "final_outside_adoption": "share adopted outside the pilot districts at the end",
    "final_pilot_adoption": "share adopted in the alliance's (pilot) districts at the end",
    "local_impact": "adoption in the alliance's districts at the end at least scale_share (P13)",
    "peak_communities_reached": "most communities served at any month",
    "final_communities_reached": "communities served at the end",
    "final_knowledge": "mean knowledge at the end",
    "inclusion": "mean share of attendance by marginalised members over months with meetings",
    "alliance_size_start": "members in the first month",
    "alliance_size_peak": "most members at any month",
    "alliance_size_final": "members at the end",
    "persistence": "mean share of platforms still functioning over the last 24 months",
    "total_cost": "total spending (k USD)",
    "cost_per_community": "total spending per community reached at the peak (k USD)",
    "cost_donor": "total spending paid by the donor (k USD; each platform's bill shared as its money came in)",
    "cost_members": "total spending paid by members (cost sharing, member funding, in kind)",
    "cost_government": "total spending paid by government (co-financing where it backs the practice)",
}


def _last(series: pd.DataFrame, column: str) -> float:
    return float(series[column].iloc[-1]) if len(series) else math.nan


def _month(value: int | None) -> float:
    return math.nan if value is None else float(value + 1)


def summarise(series: pd.DataFrame, params: Any, *, functioning_month: int | None,
              institutionalised_month: int | None, scale_month: int | None,
              cohort_share: float = math.nan, survival: float = math.nan,
              uptake_after_funding: float = math.nan, scale_extent: float = math.nan,
              pilot_adoption: float = math.nan) -> dict[str, Any]:
    """Run outcomes from the monthly series, the months events happened (0-based) and the
    measures of the cohort practising when donor funding ended (see :data:`SUMMARY_FIELDS`)."""
    adopt = series["adoption_all"].to_numpy()
    peak = float(adopt.max()) if adopt.size else 0.0
    final = float(adopt[-1]) if adopt.size else 0.0
    reached = series["communities_reached"].to_numpy()
    peak_reach = float(reached.max()) if reached.size else 0.0
    total_cost = float(series["total_cost"].iloc[-1]) if len(series) else 0.0
    outside = series["adoption_outside"].to_numpy()
    incl = series["marginalised_attendance_share"].to_numpy()
    size = series["alliance_size"].to_numpy()
    pilot_final = float(pilot_adoption)
    return {
        "functioning": functioning_month is not None,
        "functioning_month": _month(functioning_month),
        "institutionalised": institutionalised_month is not None,
        "institutionalised_month": _month(institutionalised_month),
        "districts_institutionalised": _last(series, "districts_institutionalised"),
        "government_reach": _last(series, "government_reach"),
        "scaled": scale_month is not None,
        "scale_month": _month(scale_month),
        "scale_extent": float(scale_extent),
        # NaN survival (nobody practised as funding ended, or it was not measured) is not sustained,
        # nor is the survival of a handful of early adopters: nothing was there to sustain
        "sustained": bool(cohort_share >= params.sustain_min_share and survival >= params.sustain_ratio),
        "survival": float(survival),
        "practising_at_funding_end": float(cohort_share),
        "uptake_after_funding": float(uptake_after_funding),
        "retention": final / peak if peak > 0 else math.nan,
        "peak_adoption": peak,
        "final_adoption": final,
        "final_outside_adoption": float(outside[-1]) if outside.size else math.nan,
        "final_pilot_adoption": pilot_final,
        "local_impact": bool(pilot_final >= params.scale_share),
        "peak_communities_reached": peak_reach,
        "final_communities_reached": float(reached[-1]) if reached.size else 0.0,
        "final_knowledge": float(series["mean_knowledge"].iloc[-1]) if len(series) else math.nan,
        "inclusion": float(np.nanmean(incl)) if np.isfinite(incl).any() else math.nan,
        "alliance_size_start": float(size[0]) if size.size else math.nan,
        "alliance_size_peak": float(size.max()) if size.size else math.nan,
        "alliance_size_final": float(size[-1]) if size.size else math.nan,
        "persistence": float(series["functioning_platforms"].iloc[-24:].mean()) if len(series) else math.nan,
        "total_cost": total_cost,
        "cost_per_community": total_cost / peak_reach if peak_reach > 0 else math.inf,
    }
