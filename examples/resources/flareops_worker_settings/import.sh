# Worker settings are imported by the Worker's script name. Needed only when a Logpush job
# named flareops-<script> already exists (made by another state); otherwise the first
# apply takes the declared settings over.
terraform import flareops_worker_settings.api_gateway monotask-api-gateway
