"""The generated bindings every ferry world shares: the `types` records and the `host`
functions, as componentize-py generates them into the `wit_world` package.

Every world (`parser-plugin`, `source-plugin`, `predictor-plugin`, ...) imports `types` and
`host`, so `wit_world.imports.types` and `wit_world.imports.host` are the same modules
whichever world the component is built for. On plain CPython (unit tests) the bindings come
from `componentize-py bindings` (see `ferry_guest.testing.bindings`); there `host` functions
raise `NotImplementedError` when called, so the helpers that call the host take their input as
arguments too.
"""

from componentize_py_types import Err, Ok, Some  # noqa: F401  (re-exported)
from wit_world.imports import host, types  # noqa: F401  (re-exported)
