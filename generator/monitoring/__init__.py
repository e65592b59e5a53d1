"""Model monitoring on the generator's side: reference profiles (``mlgitops profile``), their
checks in ``validate``, and the population stability index the rules compute."""
