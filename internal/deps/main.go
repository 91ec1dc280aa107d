package main

import (
	_ "github.com/aws/aws-sdk-go-v2/aws"
	_ "github.com/aws/aws-sdk-go-v2/config"
	_ "github.com/aws/aws-sdk-go-v2/credentials"
	_ "github.com/aws/aws-sdk-go-v2/service/s3"
	_ "github.com/cloudflare/cloudflare-go/v6/accounts"
	_ "github.com/cloudflare/cloudflare-go/v6/alerting"
	_ "github.com/cloudflare/cloudflare-go/v6/d1"
	_ "github.com/cloudflare/cloudflare-go/v6/kv"
	_ "github.com/cloudflare/cloudflare-go/v6/option"
	_ "github.com/cloudflare/cloudflare-go/v6/queues"
	_ "github.com/cloudflare/cloudflare-go/v6/r2"
	_ "github.com/cloudflare/cloudflare-go/v6/user"
	_ "github.com/cloudflare/cloudflare-go/v6/workers"
	_ "github.com/google/go-cmp/cmp"
	_ "github.com/hashicorp/hcl/v2/gohcl"
	_ "github.com/hashicorp/hcl/v2/hclparse"
	_ "github.com/hashicorp/hcl/v2/hclwrite"
	_ "github.com/hashicorp/terraform-plugin-framework/provider"
	_ "github.com/hashicorp/terraform-plugin-go/tfprotov6"
	_ "github.com/hashicorp/terraform-plugin-testing/helper/resource"
	_ "modernc.org/sqlite"
)

func main() {}
