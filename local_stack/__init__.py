"""Run the bundle on one machine: the pieces AWS would provide, done locally and faithfully."""
