package reconciler

// The Referrer implementations of the kinds that came after the graph: backups and alert
// destinations (alert rules and SLOs refer only to declared blocks, which the graph draws
// from the configuration's references).

// External is the backup's source, its destination bucket and the Worker that runs its
// schedule, if any.
func (BackupKind) External(spec any) []ExternalRef {
	b, ok := spec.(BackupSpec)
	if !ok {
		return nil
	}
	var out []ExternalRef
	switch {
	case b.D1Database != "":
		out = append(out, ExternalRef{Kind: "d1_database", Name: b.D1Database, Role: "backup source"})
	case b.KVNamespace != "":
		out = append(out, ExternalRef{Kind: "kv_namespace", Name: b.KVNamespace, Role: "backup source"})
	case b.R2Bucket != "":
		out = append(out, ExternalRef{Kind: "r2_bucket", Name: b.R2Bucket, Role: "backup source"})
	}
	if b.Bucket != "" {
		out = append(out, ExternalRef{Kind: "r2_bucket", Name: b.Bucket, Role: "backups in " + b.Prefix + "/"})
	}
	if b.Worker != "" {
		out = append(out, ExternalRef{Kind: "worker", Name: b.Worker, Role: "schedule runs in"})
	}
	return out
}

// External is the PagerDuty service an alert destination pages (flareops never creates
// it).
func (AlertDestinationKind) External(spec any) []ExternalRef {
	d, ok := spec.(AlertDestinationSpec)
	if !ok || d.PagerDuty == "" {
		return nil
	}
	return []ExternalRef{{Kind: "pagerduty_service", Name: d.PagerDuty, Role: "pages"}}
}

var (
	_ Referrer = BackupKind{}
	_ Referrer = AlertDestinationKind{}
)
