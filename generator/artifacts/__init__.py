"""Model artifacts wherever they live: a file in the model folder (perhaps a Git LFS pointer),
an MLflow Model Registry version, an S3 object or an HTTPS URL; ONNX external data files beside
the graph; and the local cache that holds fetched files under their sha256.

``reference`` parses ``spec.artifact.uri``, ``sources`` downloads with each protocol's own
client, ``cache`` keeps verified files, ``lfs`` reads pointer files, ``external`` finds the data
files a graph references and ``adopt`` takes in a new artifact for ``init --from``. This
package sits below ``load`` and knows no model.yaml: what validate checks of a model's files is
``check/artifacts.py``, and ``mlgitops fetch`` and build's checks are ``delivery/fetch.py``.
"""
