"""Azure Functions entry point: creates the app and registers the blueprints of ``functions/``.

Kept lean for cold start: blueprints import only what their triggers need at module level;
msgraph, parsers and other heavy libraries are imported inside the functions that use them.
"""

import azure.functions as func

from functions import parsers, system
from shared_code.startup import start

start()

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
for blueprint in (system.bp, parsers.bp):
    app.register_functions(blueprint)
