"""Chain access: contract artifacts, web3 bindings, the local node and the event indexer."""
