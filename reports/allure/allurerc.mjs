// Allure 3 configuration for `bwc report --allure`: the Allure 2-style plugin, because it is
// the one that honours ALLURE_NO_ANALYTICS (the Awesome and Classic templates always add a
// Google Analytics script), as one self-contained HTML file.
export default {
  name: "bwc-harness conformance suite",
  plugins: {
    allure2: {
      options: {
        singleFile: true,
        reportLanguage: "en",
      },
    },
  },
};
