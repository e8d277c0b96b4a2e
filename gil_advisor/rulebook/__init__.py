"""What each rule code means: one module per code, each declaring one `Rule`."""
