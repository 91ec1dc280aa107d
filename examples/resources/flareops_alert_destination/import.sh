# A webhook destination is imported by its id, webhook:<name> (or by its name). Its
# secret cannot be read back: the next apply sets the configured one.
terraform import flareops_alert_destination.slack webhook:monotask-slack
