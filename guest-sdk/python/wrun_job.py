"""The module componentize-py is pointed at (see runtimes/python/build.sh).

It imports the job's own module, ``app``, so that its ``@wrun.remote`` and
``@wrun.main`` declarations register, and exposes ``Guest``, the class
componentize-py looks for to implement the exported ``wrun:runtime/guest``
interface. Jobs therefore need no boilerplate of their own.
"""

import app  # noqa: F401  (registers the job's driver, tasks and actors)
from wrun._export import Guest  # noqa: F401
