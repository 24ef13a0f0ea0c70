"""The marketing channels' names and codes, shared by the scenario schema, the channels, the
attribution of revenue to touches and the table's columns.

They live with the agents because they name what marketers do; the market (``model/``) imports
them from here. The module imports nothing, so loading a scenario does not pull in numpy.
"""

from __future__ import annotations

#: The four marketing channels, in the order used for arrays and table columns.
CHANNELS = ("email", "blogging", "media", "jingles")

#: Channel codes used for attribution (0 is "no marketing touch").
CHANNEL_CODE = {name: code for code, name in enumerate(CHANNELS, start=1)}

#: Names of the touch codes for first/last-touch attribution; code 0, "none", is organic.
TOUCH_NAMES = ("none", *CHANNELS)
