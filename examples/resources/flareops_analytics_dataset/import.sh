# A dataset is imported by its name; the next plan shows the bindings it will manage.
terraform import flareops_analytics_dataset.task_metrics monotask_task_metrics
