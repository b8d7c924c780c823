"""The component's entry module (`componentize-py ... componentize app`): the world, and the
exported interfaces, whose functions componentize-py calls on an instance of the class named
after each (`About`, `Predictor`)."""

import wit_world
from ferry_guest import Settings, guard
from wit_world import exports

import {{module}} as plugin

# Loaded by the first `predict` of an instance (the model is mounted only then, not while
# componentize-py builds the component), and kept for the instance's next calls.
_model = None


class WitWorld(wit_world.WitWorld):
    pass


class About(exports.About):
    def describe(self):
        return plugin.describe()


class Predictor(exports.Predictor):
    @guard
    def predict(self, input):
        global _model
        if _model is None:
            Settings.load(plugin.SETTINGS)  # none: any setting is refused
            _model = plugin.Model.load(plugin.MODEL_PATH)
        return _model.predict(input)
