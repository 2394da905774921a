"""Mesa's DataCollector with lasim's outputs as named reporters, stored one row a month.

Mesa's own tools read a model through its ``datacollector``: ``batch_run`` reads
``model_vars``, ``SolaraViz``'s plot components call
``get_model_vars_dataframe()``, notebooks call ``get_agent_vars_dataframe()``.
:class:`MonthlyCollector` gives each of them lasim's series by name (every
name of :data:`model.outcomes.SERIES_FIELDS`) and, in the row of the last month
of a finished run, the run outcomes of :data:`model.outcomes.SUMMARY_FIELDS`.

Mesa's collector calls every reporter and deep-copies every value each month;
for some fifty outputs that cost as much as a tenth of a small run. This one
stores the month's row of outputs (one array the model already computes) and
builds the named columns only when someone reads them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from mesa.datacollection import DataCollector

from .kinds import STAGE_NAMES
from .outcomes import SERIES_FIELDS, SUMMARY_FIELDS

# the model is typed as Any: importing AllianceModel here would be a cycle (alliance imports this module)
AllianceModel = Any

__all__ = ["AGENT_REPORTERS", "MonthlyCollector", "summary_only_fields"]

#: Agent reporters (column -> Stakeholder attribute), recorded when the model is built
#: with ``agent_reporters=True``.
AGENT_REPORTERS: dict[str, str] = {
    "stage": "stage_name",
    "knowledge": "knowledge",
    "trust": "trust",
    "member": "member",
}


def summary_only_fields() -> list[str]:
    """Run outcomes that are not also a series name.

    ``districts_institutionalised``, ``government_reach`` and ``total_cost`` are
    both: their run outcome is the series' last month, so in the last row the
    series column already holds it.
    """
    return [k for k in SUMMARY_FIELDS if k not in SERIES_FIELDS]


def _series_value(model: AllianceModel, name: str) -> float:
    return model.metrics.get(name, np.nan)


class _SeriesReporter:
    """A named reporter Mesa can call (``reporter(model)``) for one series."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, model: AllianceModel) -> float:
        return _series_value(model, self.name)

    def __repr__(self) -> str:
        return f"<series {self.name!r}>"


class MonthlyCollector(DataCollector):
    """A :class:`mesa.DataCollector` of lasim's series, run outcomes and, optionally, agents.

    Parameters
    ----------
    agents
        Record each stakeholder's stage, knowledge, trust and membership every
        month (:data:`AGENT_REPORTERS`), for ``get_agent_vars_dataframe()``.
        Off by default: it stores four values per organisation per month, and
        with agent records ``mesa.batch_run`` returns one row per organisation
        instead of one per run.

    Notes
    -----
    ``model_vars`` maps each series name to its monthly values and each run
    outcome to ``None`` except in the last month of a finished run, which is
    what ``mesa.batch_run`` reads (its default ``data_collection_period=-1``
    gives one row per run with every series' last month and every outcome).
    """

    def __init__(self, *, agents: bool = False) -> None:
        self._rows: list[np.ndarray] = []
        self._agent_rows: list[tuple[np.ndarray, ...]] = []
        self._agent_ids: np.ndarray | None = None
        self._model: AllianceModel | None = None
        self._cache: tuple[int, dict[str, list]] | None = None
        self._agent_cache: tuple[int, dict] | None = None
        super().__init__(agent_reporters=dict(AGENT_REPORTERS) if agents else None)
        self.model_reporters = {name: _SeriesReporter(name) for name in SERIES_FIELDS}
        self._validated = True

    # Mesa's __init__ assigns these; they are computed from the stored rows instead
    @property
    def model_vars(self) -> dict[str, list]:  # type: ignore[override]
        """Every series and run outcome by name, one value per recorded month."""
        n = len(self._rows)
        if self._cache is None or self._cache[0] != n:
            data = np.vstack(self._rows) if n else np.empty((0, len(SERIES_FIELDS)))
            columns: dict[str, list] = dict(zip(SERIES_FIELDS, data.T.tolist(), strict=True))
            summary = self._final_summary()
            for name in summary_only_fields():
                columns[name] = [None] * n
                if summary is not None:
                    columns[name][-1] = summary[name]
            self._cache = (n, columns)
        return self._cache[1]

    @model_vars.setter
    def model_vars(self, _value: Any) -> None:
        pass

    @property
    def _agent_records(self) -> dict[float, list[tuple]]:  # type: ignore[override]
        """Mesa's per-step agent records (``(step, id, stage, knowledge, trust, member)``), built on demand."""
        n = len(self._agent_rows)
        if not n:
            return {}
        if self._agent_cache is None or self._agent_cache[0] != n:
            names = np.array(STAGE_NAMES, dtype=object)
            records = {}
            steps = self._collection_steps[-n:]
            for step, (stage, knowledge, trust, member) in zip(steps, self._agent_rows, strict=True):
                records[step] = list(zip([step] * stage.shape[0], self._agent_ids.tolist(), names[stage].tolist(),
                                         knowledge.tolist(), trust.tolist(), member.tolist(), strict=True))
            self._agent_cache = (n, records)
        return self._agent_cache[1]

    @_agent_records.setter
    def _agent_records(self, _value: Any) -> None:
        pass

    def _final_summary(self) -> dict[str, Any] | None:
        m = self._model
        if m is None or not self._rows or m.month < m.params.horizon_months:
            return None
        return m.summary()

    def collect(self, model: AllianceModel) -> None:
        """Store the month just ended (the model's row of outputs and, if asked, its agents' state)."""
        self._collection_steps.append(model.time)
        # the model builds a new row array every month, so keeping it needs no copy
        self._rows.append(model.metric_row)
        self._model = model
        if self.agent_reporters:
            if self._agent_ids is None:
                self._agent_ids = np.array([a.unique_id for a in model.stakeholders])
            self._agent_rows.append((model.stage.copy(), model.knowledge.copy(), model.trust.copy(),
                                     model.is_member.copy()))

    def series_frame(self) -> pd.DataFrame:
        """The monthly series (one row per month, index ``month`` from 1)."""
        n = len(self._rows)
        data = np.vstack(self._rows) if n else np.empty((0, len(SERIES_FIELDS)))
        return pd.DataFrame(data, columns=list(SERIES_FIELDS), index=pd.RangeIndex(1, n + 1, name="month"))

    def get_model_vars_dataframe(self) -> pd.DataFrame:
        """One row per month (index ``Step``, the month from 1), a column per series, then the run
        outcomes, filled in the last month of a finished run."""
        frame = self.series_frame()
        frame.index = pd.Index([int(s) for s in self._collection_steps], name="Step")
        summary = self._final_summary()
        extra = {}
        for name in summary_only_fields():
            col = pd.Series(None, index=frame.index, dtype=object)
            if summary is not None:
                col.iloc[-1] = summary[name]
            extra[name] = col
        return pd.concat([frame, pd.DataFrame(extra, index=frame.index)], axis=1)

    def get_agent_vars_dataframe(self) -> pd.DataFrame:
        """One row per stakeholder and month (index ``Step``, ``AgentID``): stage, knowledge, trust, member."""
        if not self.agent_reporters:
            raise UserWarning("no agent reporters: build the model with AllianceModel(..., agent_reporters=True) "
                              "to record each stakeholder's stage, knowledge, trust and membership every month")
        n_months = len(self._agent_rows)
        if not n_months:
            return pd.DataFrame(columns=list(AGENT_REPORTERS),
                                index=pd.MultiIndex.from_arrays([[], []], names=["Step", "AgentID"]))
        n = self._agent_ids.shape[0]
        stage, knowledge, trust, member = (np.concatenate(c) for c in zip(*self._agent_rows, strict=True))
        index = pd.MultiIndex.from_arrays(
            [np.repeat(np.array(self._collection_steps[-n_months:], dtype=int), n), np.tile(self._agent_ids, n_months)],
            names=["Step", "AgentID"])
        return pd.DataFrame({"stage": pd.Categorical.from_codes(stage, categories=list(STAGE_NAMES)),
                             "knowledge": knowledge, "trust": trust, "member": member}, index=index)
