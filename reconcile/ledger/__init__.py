"""The ledger: paid and held days across batches, the one door every command goes through.

    store       the ledger's interface and its storage
"""
