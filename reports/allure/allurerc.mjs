// Allure 3 configuration for `bwc report --allure`: the Allure 2-style plugin, because it is
// the one that honours ALLURE_NO_ANALYTICS (the Awesome and Classic templates always add a
// Google Analytics script), as one self-contained HTML file. The plugin titles the page with its
// own reportName option (it ignores `allure generate --report-name`): bwc report passes the name
// asked for in BWC_ALLURE_REPORT_NAME.
const name = process.env.BWC_ALLURE_REPORT_NAME || "bwc-harness conformance suite";

export default {
  name,
  plugins: {
    allure2: {
      options: {
        reportName: name,
        singleFile: true,
        reportLanguage: "en",
      },
    },
  },
};
