"""The daily report: what happened to the network and to the pipeline on one day.

``ytempire report daily [--date D] [--out DIR]`` gathers the day (:mod:`.collect`
through the query layer :mod:`.queries`), draws the charts (:mod:`.charts`),
renders one self-contained HTML page and a plain-text summary (:mod:`.render`)
and delivers them (:mod:`.delivery`: files always, email when Airflow's SMTP
settings are configured). Every part degrades on its own: a table that does not
exist yet, a stage that did not run or a service that is down becomes a line
saying so, never a missing report.
"""
