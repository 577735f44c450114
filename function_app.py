"""Azure Functions entry point: creates the app and registers the blueprints of ``functions/``.

Kept lean for cold start: blueprints import only what their triggers need at module level;
msgraph, parsers and other heavy libraries are imported inside the functions that use them.
"""

import azure.functions as func

from functions import (
    admin,
    autotask,
    customers,
    daily_jobs,
    feedback,
    graph,
    inbox,
    jobs,
    mail,
    missed_runs,
    overrides,
    parsers,
    parsing_rules,
    psa,
    reports,
    run_checks,
    runs,
    system,
    tickets,
)
from shared_code.startup import start

start()

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
for blueprint in (
    system.bp,
    parsers.bp,
    parsing_rules.bp,
    run_checks.bp,
    runs.bp,
    daily_jobs.bp,
    jobs.bp,
    customers.bp,
    overrides.bp,
    tickets.bp,
    missed_runs.bp,
    admin.bp,
    autotask.bp,
    psa.bp,
    graph.bp,
    mail.bp,
    inbox.bp,
    reports.bp,
    feedback.bp,
):
    app.register_functions(blueprint)
