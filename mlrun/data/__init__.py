"""The data a run trains on: ``sources.load_dataset`` loads scikit-learn's offline sets and generators
or the user's CSV (``user_csv``), then encodes, splits and scales them into a ``Dataset``
(``dataset``, with ``Preprocessor`` and ``DataError``); ``names`` lists the dataset names, scalers and
defaults as plain data for the spec. Nothing is re-exported here, so reading the names imports neither
numpy nor scikit-learn.
"""
