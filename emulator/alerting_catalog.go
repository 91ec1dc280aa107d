package emulator

import "strings"

// The alert types and filter keys Cloudflare's notification policies accept. The set of
// types is the Go SDK's PolicyAlertType enum (v6.10, 69 values); available_alerts offers
// exactly these, so a policy is accepted iff its type is listed there. Display names and
// groups follow the dashboard's wording where known. Unknown upstream: available_alerts
// is account-specific on Cloudflare; the emulator offers every type to every account.

// alertingCatalog maps product group → "type|Display name" entries.
var alertingCatalog = map[string][]string{
	"Access": {
		"access_custom_certificate_expiration_type|Access mTLS Certificate Expiration Alert",
		"expiring_service_token_alert|Expiring Access Service Token Alert",
	},
	"Account": {
		"abuse_report_alert|Abuse Report Alert",
		"block_notification_block_removed|Block Removed Notification",
		"block_notification_new_block|New Block Notification",
		"block_notification_review_rejected|Block Review Rejected Notification",
		"sentinel_alert|Sentinel Alert",
	},
	"Billing": {"billing_usage_alert|Usage Based Billing"},
	"BGP":     {"bgp_hijack_notification|BGP Hijack Notification"},
	"Bot Management": {
		"bot_traffic_basic_alert|Bot Traffic Alert",
		"custom_bot_detection_alert|Custom Bot Detection Alert",
	},
	"Brand Protection": {
		"brand_protection_alert|Brand Protection Alert",
		"brand_protection_digest|Brand Protection Digest",
		"logo_match_alert|Logo Match Alert",
	},
	"Cloudflare Status": {
		"incident_alert|Incident Alert",
		"maintenance_event_notification|Maintenance Notification",
	},
	"Cloudforce One": {"cloudforce_one_request_notification|Cloudforce One Request Notification"},
	"DDoS Protection": {
		"advanced_ddos_attack_l4_alert|Advanced Layer 3/4 DDoS Attack Alert",
		"advanced_ddos_attack_l7_alert|Advanced HTTP DDoS Attack Alert",
		"dos_attack_l4|Layer 3/4 DDoS Attack Alert",
		"dos_attack_l7|HTTP DDoS Attack Alert",
	},
	"DNS": {
		"secondary_dns_all_primaries_failing|Secondary DNS All Primaries Failing",
		"secondary_dns_primaries_failing|Secondary DNS Primaries Failing",
		"secondary_dns_warning|Secondary DNS Warning",
		"secondary_dns_zone_successfully_updated|Secondary DNS Zone Successfully Updated",
		"secondary_dns_zone_validation_warning|Secondary DNS Zone Validation Warning",
	},
	"Health Checks": {"health_check_status_notification|Health Checks Status Notification"},
	"Images": {
		"image_notification|Images Notification",
		"image_resizing_notification|Image Resizing Notification",
	},
	"Load Balancing": {
		"load_balancing_health_alert|Load Balancing Health Alert",
		"load_balancing_pool_enablement_alert|Pool Enablement Alert",
	},
	"Logpush": {"failing_logpush_job_disabled_alert|Failing Logpush Job Disabled"},
	"Magic Network Monitoring": {
		"fbm_auto_advertisement|Auto Advertisement",
		"fbm_dosd_attack|DDoS Attack Detected",
		"fbm_volumetric_attack|Volumetric Attack",
	},
	"Magic Transit": {
		"cni_maintenance_notification|Network Interconnect Maintenance Notification",
		"magic_tunnel_health_check_event|Magic Tunnel Health Check Event",
		"magic_wan_tunnel_health|Magic WAN Tunnel Health",
	},
	"Page Shield": {
		"scriptmonitor_alert_new_code_change_detections|New Code Change Detected",
		"scriptmonitor_alert_new_hosts|New Script Hosts",
		"scriptmonitor_alert_new_malicious_hosts|New Malicious Script Hosts",
		"scriptmonitor_alert_new_malicious_scripts|New Malicious Scripts",
		"scriptmonitor_alert_new_malicious_url|New Malicious Script URL",
		"scriptmonitor_alert_new_max_length_resource_url|New Max Length Resource URL",
		"scriptmonitor_alert_new_resources|New Resources",
	},
	"Pages":           {"pages_event_alert|Pages Project Updates"},
	"Radar":           {"radar_notification|Radar Notification"},
	"Security Center": {"security_insights_alert|Security Insights Alert"},
	"SSL/TLS": {
		"custom_ssl_certificate_event_type|Custom SSL Certificate Event",
		"dedicated_ssl_certificate_event_type|Advanced Certificate Event",
		"hostname_aop_custom_certificate_expiration_type|Hostname-level Authenticated Origin Pulls Certificate Expiration",
		"mtls_certificate_store_certificate_expiration_type|mTLS Certificate Store Certificate Expiration",
		"universal_ssl_event_type|Universal SSL Event",
		"zone_aop_custom_certificate_expiration_type|Zone-level Authenticated Origin Pulls Certificate Expiration",
	},
	"Stream": {"stream_live_notifications|Stream Live Input Notification"},
	"Traffic Monitoring": {
		"advanced_http_alert_error|Advanced HTTP Error Alert",
		"clickhouse_alert_fw_anomaly|Security Events Alert",
		"clickhouse_alert_fw_ent_anomaly|Advanced Security Events Alert",
		"custom_analytics|Custom Analytics Alert",
		"http_alert_edge_error|HTTP Edge Error Rate Alert",
		"http_alert_origin_error|HTTP Origin Error Rate Alert",
		"real_origin_monitoring|Passive Origin Monitoring",
		"traffic_anomalies_alert|Traffic Anomalies Alert",
	},
	"Tunnels": {
		"tunnel_health_event|Tunnel Health Alert",
		"tunnel_update_event|Tunnel Update Alert",
	},
	"Web Analytics": {"web_analytics_metrics_update|Web Analytics Metrics Update"},
	"Zero Trust": {
		"device_connectivity_anomaly_alert|Device Connectivity Anomaly Alert",
		"synthetic_test_latency_alert|DEX Test Latency Alert",
		"synthetic_test_low_availability_alert|DEX Test Low Availability Alert",
	},
}

// alertingFilterOptions describes the filters of the types this platform uses
// (cloudflare-api.md §4); the other types list none.
var alertingFilterOptions = map[string][]map[string]any{
	"billing_usage_alert": {
		{"Key": "product", "ComparisonOperator": "==", "Optional": false},
		{"Key": "limit", "ComparisonOperator": ">=", "Optional": false},
	},
	"pages_event_alert": {
		{"Key": "project_id", "ComparisonOperator": "==", "Optional": true},
		{"Key": "environment", "ComparisonOperator": "==", "Optional": true},
		{"Key": "event", "ComparisonOperator": "==", "Optional": true},
	},
	"incident_alert": {
		{"Key": "incident_impact", "ComparisonOperator": "==", "Optional": true},
		{"Key": "affected_components", "ComparisonOperator": "==", "Optional": true},
	},
}

// alertingTypes is the set of accepted alert_type values.
var alertingTypes = func() map[string]bool {
	m := map[string]bool{}
	for _, entries := range alertingCatalog {
		for _, e := range entries {
			typ, _, _ := strings.Cut(e, "|")
			m[typ] = true
		}
	}
	return m
}()

// alertingFilterKeys are the filter keys of GO PolicyFilter; any other key is refused.
var alertingFilterKeys = map[string]bool{}

func init() {
	for _, k := range strings.Fields(`actions affected_asns affected_components affected_locations
		airport_code alert_trigger_preferences alert_trigger_preferences_value enabled environment
		event event_source event_type group_by health_check_id incident_impact input_id
		insight_class limit logo_tag megabits_per_second new_health new_status packets_per_second
		pool_id pop_names product project_id protocol query_tag requests_per_second selectors
		services slo status target_hostname target_ip target_zone_name traffic_exclusions
		tunnel_id tunnel_name type where zones`) {
		alertingFilterKeys[k] = true
	}
}

// alertingAvailable builds the available_alerts answer.
func alertingAvailable() map[string][]map[string]any {
	out := map[string][]map[string]any{}
	for group, entries := range alertingCatalog {
		for _, e := range entries {
			typ, name, _ := strings.Cut(e, "|")
			opts := alertingFilterOptions[typ]
			if opts == nil {
				opts = []map[string]any{}
			}
			out[group] = append(out[group], map[string]any{
				"type":           typ,
				"display_name":   name,
				"description":    "Notifies when a " + name + " event occurs.",
				"filter_options": opts,
			})
		}
	}
	return out
}
