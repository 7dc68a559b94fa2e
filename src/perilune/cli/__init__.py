"""perilune serve | init | teams | users | keys | plans | credits | db"""
